"""Local simulators of the outside systems Lendgraph talks to, for tests and demos."""
