"""A customer's unique details (phone, national id) are settled by the table's unique
constraints, named in the refusal when a concurrent writer got there first, on SQLite and
PostgreSQL."""

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from domain.customers import (
    Customer,
    DuplicateCustomer,
    IdType,
    Registration,
    register_customer,
    save_unique,
)
from domain.tables import utcnow
from domain.users import Role, create_user

AADHAR = "4b1d2c3e-0000-4000-8000-00000000abcd"


def customer(session: Session, phone: str, national_id: str | None = None) -> Customer:
    row = Customer(
        first_name="Meera",
        last_name="Iyer",
        age=35,
        phone=phone,
        id_type=IdType.AADHAR if national_id else None,
        national_id=national_id,
        national_id_verified=national_id is not None,
        monthly_income_minor=5_000_000,
        approved_limit_minor=180_000_000,
    )
    session.add(row)
    session.flush()
    return row


def test_a_registration_that_loses_a_race_names_the_detail_taken(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_factory() as session:
        customer(session, "+919700000001", AADHAR)
        staff = create_user(session, "boss", "a long password", Role.STAFF)
        session.commit()
        monkeypatch.setattr("domain.customers.refuse_duplicates", lambda *args, **kw: None)
        form = Registration("Asha", "Rao", "+919700000002", age=30, monthly_income=Decimal(50000))
        for clash, field in (
            (replace(form, national_id=AADHAR), "national id"),
            (replace(form, phone="+919700000001"), "phone number"),
        ):
            with pytest.raises(DuplicateCustomer) as refused:
                register_customer(session, clash, utcnow().date(), staff)
            assert refused.value.field == field
            session.rollback()


def test_a_broken_rule_that_is_no_taken_detail_is_not_reported_as_one(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        row = customer(session, "9700000003")
        row.monthly_income_minor = -1  # the table's CHECK refuses it
        with pytest.raises(IntegrityError):
            save_unique(session, row)
