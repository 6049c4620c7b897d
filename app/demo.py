"""Demo data for `make run`: loaded once, so a newcomer can sign in and look around.

A staff user; 60 imported customers with 160 historic loans and 1,000 savings transactions
(generated, seed 7); and a demo customer who signs in and whose Aadhar id has transactions,
so both credit scores show up in GraphiQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlmodel import func, select

from app.runtime import Runtime
from domain.applications import LoanAsk
from domain.customers import Customer, Registration, register_customer, verify_identity
from domain.idempotency import SYSTEM_REQUESTER
from domain.money import Money
from domain.origination import apply_for_loan
from domain.providers import move_funds, register_provider
from domain.tables import utcnow
from domain.unit_of_work import UnitOfWork
from domain.users import Role, create_user, find_user_by_username
from integrations.sample_files import generate_sample
from workers.importing import seed_from_folder

DEMO_CUSTOMER = ("asha", "lendgraph-demo-customer")
DEMO_PROVIDER = ("anil", "lendgraph-demo-provider")


@dataclass(frozen=True)
class DemoReport:
    created: list[str]
    credentials: list[tuple[str, str, str]]  # (role, username, password)


def _staff(runtime: Runtime, created: list[str]) -> None:
    settings = runtime.settings
    with runtime.session_factory() as session:
        if find_user_by_username(session, settings.demo_username) is None:
            create_user(session, settings.demo_username, settings.demo_password, Role.STAFF)
            session.commit()
            created.append(f"staff user {settings.demo_username}")


def _customers(runtime: Runtime, folder: Path, created: list[str]) -> None:
    with runtime.session_factory() as session:
        if session.exec(select(func.count()).select_from(Customer)).one() > 0:
            return
    files = generate_sample(folder, customers=60, loans=160, transactions=1000, seed=7)
    runs = seed_from_folder(runtime.session_factory, folder, runtime.dispatcher.dispatch)
    created += [f"{run.imported} {run.kind.value.lower()} imported" for run in runs]
    with runtime.session_factory() as session:
        uow = UnitOfWork(session, runtime.dispatcher.dispatch)
        with uow.transaction():
            asha = register_customer(
                session,
                Registration(
                    first_name="Asha",
                    last_name="Demo",
                    phone="+919800000001",
                    age=34,
                    email="asha@example.com",
                    national_id=files.aadhar_ids[0],
                    annual_income=Decimal("1200000"),
                    username=DEMO_CUSTOMER[0],
                    password=DEMO_CUSTOMER[1],
                ),
                utcnow().date(),
                registered_by=None,
            )
            verify_identity(session, asha)  # as staff would, having seen her Aadhar card
            apply_for_loan(
                session,
                asha,
                LoanAsk("PERSONAL_EMI", Decimal("200000"), Decimal("11"), 24),
                "demo-asha-personal",
                utcnow(),
                requested_by=SYSTEM_REQUESTER,  # demo data: no user sent these requests
            )
            uow.commit()
    created.append(f"demo customer {DEMO_CUSTOMER[0]} with savings transactions and a loan")


def _provider(runtime: Runtime, created: list[str]) -> None:
    with runtime.session_factory() as session:
        if find_user_by_username(session, DEMO_PROVIDER[0]) is not None:
            return
        provider = register_provider(
            session,
            username=DEMO_PROVIDER[0],
            password=DEMO_PROVIDER[1],
            name="Anil Demo",
            currency="INR",
            now=utcnow(),
        )
        move_funds(
            session,
            provider,
            kind="ADD",
            amount=Money.of("50000", "INR"),
            source=None,
            key="demo-anil-first-funds",
            requested_by=SYSTEM_REQUESTER,
            now=utcnow(),
        )
        session.commit()
    created.append(f"demo provider {DEMO_PROVIDER[0]} with 50,000 INR in the pool")


def load_demo_data(runtime: Runtime, folder: Path) -> DemoReport:
    """Create what is missing; running it again changes nothing."""
    created: list[str] = []
    _staff(runtime, created)
    _provider(runtime, created)
    _customers(runtime, folder, created)
    runtime.run_pending_jobs()
    settings = runtime.settings
    return DemoReport(
        created=created,
        credentials=[
            ("STAFF", settings.demo_username, settings.demo_password),
            ("CUSTOMER", *DEMO_CUSTOMER),
            ("PROVIDER", *DEMO_PROVIDER),
        ],
    )
