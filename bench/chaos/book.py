"""The book a fault run pays on and closes: a day's close over the loans bench/billing.py
seeds, a staff user, and customers who signed themselves up (so each payment sends them a
notice by email) with one bank-funded EMI loan each to pay on."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from app.db import make_engine, make_session_factory
from app.migrations import migrate
from bench.billing import seed_a_day_with_notices
from bench.common import emi_loan_to_pay_on
from domain.customers import Registration, register_customer
from domain.users import Role, create_user

STAFF = "chaos_staff"


@dataclass(frozen=True)
class Book:
    staff_password: str
    loans: list[str]  # the global ids of the loans the clients pay on, one per client
    close_loans: int  # the loans of the day to close (ids 1..close_loans)


def create_database(admin_url: str, name: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def seed_day_to_close(url: str, loans: int) -> None:
    """A migrated database holding the day to close; the borrower reads email."""
    migrate(url)
    seed_a_day_with_notices(url, loans)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE customers SET email = 'borrower@example.com'"))
    engine.dispose()


def seed_book(url: str, clients: int, close_loans: int) -> Book:
    """The day to close first (its loans take ids 1..close_loans, as in a clean copy), then
    the staff user and one paying customer and loan per client."""
    seed_day_to_close(url, close_loans)
    password = secrets.token_urlsafe(16)
    engine = make_engine(url, pool_size=1)
    now = datetime.now(UTC)
    ids = []
    with make_session_factory(engine)() as session:
        create_user(session, STAFF, password, Role.STAFF)
        for n in range(clients):
            form = Registration(
                "Chaos",
                f"Payer{n}",
                f"+9181{n:08d}",
                age=40,
                email=f"payer{n}@example.com",
                monthly_income=Decimal("500000"),
                username=f"chaos_payer_{n}",
                password=secrets.token_urlsafe(16),
            )
            customer = register_customer(session, form, now.date(), None)
            ids.append(emi_loan_to_pay_on(session, customer, f"chaos-loan-{n:05d}", now))
        session.commit()
    engine.dispose()
    return Book(password, ids, close_loans)
