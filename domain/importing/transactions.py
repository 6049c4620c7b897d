"""Importing savings transactions: CSV `user,date,transaction_type,amount` (RULES.md §4).

A row is identified by the file's content digest and its row number, so re-running a file
(or a copy of it) adds nothing. Each batch that adds rows asks for the transaction scores of
its users' customers to be recomputed in the background, and counts those customers.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from domain.customer_rules import NATIONAL_ID
from domain.importing import cells
from domain.importing.batch import BatchContext, NumberedRow, parse_rows
from domain.importing_runs import ImportKind, ImportTally
from domain.outbox import emit_job
from domain.savings import SavingsTransaction, TransactionType, account_holders
from domain.upsert import insert_ignoring_conflicts


class TransactionFile:
    kind = ImportKind.TRANSACTIONS
    headers = ("user", "date", "transaction_type", "amount")

    def _parse(self, number: int, row: cells.Row, context: BatchContext) -> dict[str, Any]:
        user = cells.text(row, "user", max_length=64)
        if not NATIONAL_ID.match(user):
            raise cells.BadCell(f"user is not an Aadhar id: {user!r}")
        kind = cells.text(row, "transaction_type").upper()
        if kind not in TransactionType.__members__:
            raise cells.BadCell(f"transaction_type must be CREDIT or DEBIT, not {kind!r}")
        key = hashlib.sha256(f"{context.file_digest}:{number}".encode()).hexdigest()
        return {
            "national_id": user,
            "booked_on": cells.day(row, "date"),
            "type": TransactionType(kind),
            "amount_minor": cells.money_minor(row, "amount", context.currency, positive=True),
            "currency": context.currency,
            "dedupe_key": key,
        }

    def import_batch(
        self, session: Session, rows: list[NumberedRow], context: BatchContext
    ) -> ImportTally:
        parsed, tally = parse_rows(rows, lambda number, row: self._parse(number, row, context))
        records = [record for _, record in parsed]
        tally.imported = insert_ignoring_conflicts(session, SavingsTransaction, records)
        tally.skipped = len(records) - tally.imported
        if tally.imported:
            users = sorted({r["national_id"] for r in records})
            emit_job(session, "compute_transaction_scores", national_ids=users)
            holders = session.exec(account_holders(users)).all()
            tally.rescored_customers = {c.id for c in holders if c.id is not None}
        return tally
