"""Importing historic loans: `Customer ID, Loan ID, Loan Amount, Tenure, Interest Rate,
Monthly payment, EMIs paid on Time, Date of Approval, End Date` (RULES.md §1).

Loans keep their numbers, amounts and dates as given; a loan id seen before is skipped if it
is the same loan and refused otherwise. Afterwards new loan numbers start above them all.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from domain.customers import Customer
from domain.importing import cells
from domain.importing.batch import BatchContext, NumberedRow, parse_rows
from domain.importing_runs import ImportKind, ImportTally
from domain.loans import Loan, LoanOrigin, advance_loan_numbers, imported_status
from domain.rates import RATE_SCALE
from domain.upsert import insert_ignoring_conflicts

_IDENTITY = (
    "principal_minor",
    "tenure",
    "interest_rate",
    "installment_minor",
    "start_date",
    "end_date",
)


def _same_loan_key(customer_id: int, values: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two rows with one Loan ID the same loan (EMIs paid may have moved on)."""
    return (customer_id, *(values[name] for name in _IDENTITY))


class LoanSheet:
    kind = ImportKind.LOANS
    headers = (
        "Customer ID",
        "Loan ID",
        "Loan Amount",
        "Tenure",
        "Interest Rate",
        "Monthly payment",
        "EMIs paid on Time",
        "Date of Approval",
        "End Date",
    )

    def _parse(self, row: cells.Row, context: BatchContext) -> dict[str, Any]:
        rate = cells.decimal(row, "Interest Rate")
        if rate * RATE_SCALE != (rate * RATE_SCALE).to_integral_value():
            raise cells.BadCell("Interest Rate has more than 4 decimal places")
        start, end = cells.day(row, "Date of Approval"), cells.day(row, "End Date")
        if end < start:
            raise cells.BadCell("End Date is before Date of Approval")
        return {
            "legacy_customer": cells.integer(row, "Customer ID", minimum=1),
            "number": cells.integer(row, "Loan ID", minimum=1, maximum=cells.BIGINT_MAX),
            "principal_minor": cells.money_minor(row, "Loan Amount", context.currency, True),
            "tenure": cells.integer(row, "Tenure", minimum=1, maximum=1200),
            "interest_rate": rate,
            "installment_minor": cells.money_minor(row, "Monthly payment", context.currency),
            "emis_paid_on_time": cells.integer(row, "EMIs paid on Time", minimum=0, maximum=1200),
            "start_date": start,
            "end_date": end,
            "status": imported_status(end, context.today),
            "origin": LoanOrigin.IMPORTED,
            "created_at": context.now,
        }

    def import_batch(
        self, session: Session, rows: list[NumberedRow], context: BatchContext
    ) -> ImportTally:
        parsed, tally = parse_rows(rows, lambda _number, row: self._parse(row, context))
        owners = dict(
            session.exec(
                select(Customer.legacy_id, Customer.id).where(
                    col(Customer.legacy_id).in_([r["legacy_customer"] for _, r in parsed])
                )
            ).all()
        )
        numbers = [r["number"] for _, r in parsed]
        existing = {
            loan.number: _same_loan_key(loan.customer_id, loan.__dict__)
            for loan in session.exec(select(Loan).where(col(Loan.number).in_(numbers))).all()
        }
        fresh: list[dict[str, Any]] = []
        for number, record in parsed:
            customer_id = owners.get(record.pop("legacy_customer"))
            if customer_id is None:
                tally.refuse(number, "Customer ID is not a known customer")
                continue
            key = _same_loan_key(customer_id, record)
            if record["number"] in existing:
                if existing[record["number"]] == key:
                    tally.skipped += 1  # the same loan, imported before
                else:
                    tally.refuse(
                        number,
                        f"Loan ID {record['number']} already exists with "
                        "other data (duplicate loan id)",
                    )
                continue
            existing[record["number"]] = key
            fresh.append({**record, "customer_id": customer_id, "currency": context.currency})
        tally.imported = insert_ignoring_conflicts(session, Loan, fresh)
        tally.skipped += len(fresh) - tally.imported
        advance_loan_numbers(session)
        return tally
