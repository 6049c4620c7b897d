"""Composition root: settings, database, the ASGI app, background runtime and the CLI."""
