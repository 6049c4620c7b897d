"""The actor modules every process loads, so jobs can be both enqueued and run.

Each business area adds its actor module to ACTOR_MODULES as it arrives (scoring, billing,
notifications, import). Extra modules can be named with the ACTOR_MODULES setting.
"""

from __future__ import annotations

import importlib

ACTOR_MODULES: tuple[str, ...] = (
    "workers.customer_actors",
    "workers.scoring_actors",
    "workers.billing_actors",
    "workers.notification_actors",
)


def load_actor_modules(extra: list[str]) -> None:
    for name in (*ACTOR_MODULES, *extra):
        importlib.import_module(name)
