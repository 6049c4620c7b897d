"""Importing customers: `Customer ID, First Name, Last Name, Age, Phone Number, Monthly Salary,
Approved Limit` (RULES.md §1). Values are kept as given; a customer id seen before is skipped."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from domain.customer_rules import normalise_phone
from domain.customers import Customer
from domain.importing import cells
from domain.importing.batch import BatchContext, NumberedRow, parse_rows
from domain.importing_runs import ImportKind, ImportTally
from domain.upsert import insert_ignoring_conflicts


class CustomerSheet:
    kind = ImportKind.CUSTOMERS
    headers = (
        "Customer ID",
        "First Name",
        "Last Name",
        "Age",
        "Phone Number",
        "Monthly Salary",
        "Approved Limit",
    )

    def _parse(self, row: cells.Row, context: BatchContext) -> dict[str, Any]:
        return {
            "legacy_id": cells.integer(row, "Customer ID", minimum=1),
            "first_name": cells.text(row, "First Name", max_length=100),
            "last_name": cells.text(row, "Last Name", max_length=100),
            "age": cells.integer(row, "Age", minimum=0, maximum=150),
            "phone": normalise_phone(cells.text(row, "Phone Number", max_length=20)),
            "monthly_income_minor": cells.money_minor(
                row, "Monthly Salary", context.currency, positive=True
            ),
            "approved_limit_minor": cells.money_minor(row, "Approved Limit", context.currency),
            "currency": context.currency,
            "created_at": context.now,
        }

    def import_batch(
        self, session: Session, rows: list[NumberedRow], context: BatchContext
    ) -> ImportTally:
        parsed, tally = parse_rows(rows, lambda _number, row: self._parse(row, context))
        legacy_ids = [record["legacy_id"] for _, record in parsed]
        phones = [record["phone"] for _, record in parsed]
        known = session.exec(
            select(Customer).where(
                col(Customer.legacy_id).in_(legacy_ids) | col(Customer.phone).in_(phones)
            )
        ).all()
        by_legacy = {c.legacy_id: c for c in known}
        phone_owner = {c.phone: c.legacy_id for c in known}
        fresh: list[dict[str, Any]] = []
        for number, record in parsed:
            earlier = by_legacy.get(record["legacy_id"])
            if earlier is not None:
                if earlier.phone == record["phone"]:
                    tally.skipped += 1
                else:
                    tally.refuse(
                        number,
                        f"Customer ID {record['legacy_id']} was already imported with other data",
                    )
                continue
            if record["phone"] in phone_owner:
                tally.refuse(
                    number,
                    f"Phone Number {record['phone']} already belongs to "
                    f"customer {phone_owner[record['phone']]}",
                )
                continue
            phone_owner[record["phone"]] = record["legacy_id"]
            by_legacy[record["legacy_id"]] = Customer(**record)
            fresh.append(record)
        tally.imported = insert_ignoring_conflicts(session, Customer, fresh)
        tally.skipped += len(fresh) - tally.imported
        return tally
