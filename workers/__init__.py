"""Background work: the Dramatiq broker, outbox relay, actors and the periodic scheduler."""
