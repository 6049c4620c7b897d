"""Background jobs about customers: transaction scores and imports."""

from __future__ import annotations

from pathlib import Path

import dramatiq

from domain.credit_assessment import refresh_transaction_scores
from domain.importing_runs import ImportKind
from domain.tables import utcnow
from workers import runtime
from workers.consuming import consume_once
from workers.importing import run_import, seed_from_folder


@dramatiq.actor(actor_name="compute_transaction_scores", queue_name="scoring", max_retries=5)
def compute_transaction_scores(message_id: str, national_ids: list[str]) -> None:
    """Recompute the transaction score (RULES.md §4) of the customers with these ids."""
    consume_once(
        "compute_transaction_scores",
        message_id,
        lambda session: refresh_transaction_scores(session, national_ids, utcnow()),
    )


@dramatiq.actor(
    actor_name="import_file", queue_name="imports", max_retries=0, time_limit=6 * 3600 * 1000
)
def import_file(message_id: str, kind: str, path: str) -> None:
    """Import one file; naturally idempotent (a second run skips what the first imported)."""
    current = runtime.current()
    run_import(current.session_factory, ImportKind(kind), Path(path), current.after_commit)


@dramatiq.actor(
    actor_name="seed_from_folder", queue_name="imports", max_retries=0, time_limit=6 * 3600 * 1000
)
def seed_folder(message_id: str, folder: str) -> None:
    """Import the seed files of a folder in order: customers, loans, transactions."""
    current = runtime.current()
    seed_from_folder(current.session_factory, Path(folder), current.after_commit)
