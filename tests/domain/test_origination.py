"""Applying for loans: stored decisions, loans with schedules, disbursement in the ledger."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from domain.applications import LoanAsk
from domain.customers import Customer, Registration, register_customer
from domain.errors import IdempotencyConflict
from domain.idempotency import SYSTEM_REQUESTER
from domain.ledger import LedgerAccount, verify_ledger
from domain.loans import Loan, LoanStatus
from domain.origination import (
    ApplicationPending,
    ApplicationStatus,
    LoanApplication,
    NotACoreBankingCustomer,
    ScheduledDue,
    apply_for_loan,
)
from domain.outbox import OutboxMessage
from domain.scoring.progress import INITIATE_ACTOR, ExternalScoring, ScoringStage
from domain.users import Role, create_user

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def customer(session: Session, phone: str = "+919800000001", salary: str = "50000") -> Customer:
    staff = create_user(session, f"staff{phone[-4:]}", "long enough pass", Role.STAFF)
    return register_customer(
        session,
        Registration("Asha", "Rao", phone, age=30, monthly_income=Decimal(salary)),
        NOW.date(),
        staff,
    )


def test_an_approved_bank_loan_is_made_scheduled_and_disbursed(session: Session) -> None:
    asha = customer(session)
    application = apply_for_loan(
        session,
        asha,
        LoanAsk("PERSONAL_EMI", Decimal("120030"), Decimal("8.12"), 12, date(2026, 11, 20)),
        "key-00000001",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert application.status is ApplicationStatus.APPROVED
    assert application.interest_rate == Decimal(12)  # neutral score: corrected to 12 %
    loan = session.get(Loan, application.loan_id)
    assert loan is not None and loan.status is LoanStatus.ACTIVE
    assert loan.installment_minor == 10_664_52
    dues = session.exec(select(ScheduledDue).where(ScheduledDue.loan_id == loan.id)).all()
    assert len(dues) == 12 and sum(d.principal_minor for d in dues) == 120_030_00
    receivable = session.exec(
        select(LedgerAccount).where(LedgerAccount.code == f"loan:{loan.number}:principal")
    ).one()
    assert receivable.balance_minor == 120_030_00
    assert verify_ledger(session) == []


def test_a_rejected_application_is_stored_with_its_reasons_and_makes_no_loan(
    session: Session,
) -> None:
    poor = customer(session, salary="10000")
    application = apply_for_loan(
        session,
        poor,
        LoanAsk("PERSONAL_EMI", Decimal("120030"), Decimal("12"), 12),
        "key-00000002",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert application.status is ApplicationStatus.REJECTED and application.loan_id is None
    assert application.reasons[0]["code"] == "EMI_ABOVE_HALF_OF_SALARY"
    assert session.exec(select(func.count()).select_from(Loan)).one() == 0


def fund_pool(session: Session, amount: str = "100000") -> None:
    from domain.money import Money
    from domain.providers import move_funds, register_provider

    provider = register_provider(
        session,
        username="pooled",
        password="long enough pass",
        name="Pooled",
        currency="INR",
        now=NOW,
    )
    move_funds(
        session,
        provider,
        kind="ADD",
        amount=Money.of(amount, "INR"),
        source=None,
        key="pool-seed-key",
        now=NOW,
        requested_by=SYSTEM_REQUESTER,
    )


def test_provider_funded_loans_are_paid_out_of_the_pool(session: Session) -> None:
    fund_pool(session)
    asha = customer(session)
    application = apply_for_loan(
        session,
        asha,
        LoanAsk("P2P_FLAT", Decimal("1000")),
        "key-00000003",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    loan = session.get(Loan, application.loan_id)
    assert loan is not None and loan.status is LoanStatus.ACTIVE
    bank = select(LedgerAccount).where(LedgerAccount.code == "bank:funds:INR")
    assert session.exec(bank).first() is None  # the bank lent nothing


def test_the_same_key_replays_and_a_changed_request_conflicts(session: Session) -> None:
    asha = customer(session)
    ask = LoanAsk("PERSONAL_EMI", Decimal("50000"), Decimal("14"), 6)
    first = apply_for_loan(session, asha, ask, "key-00000004", NOW, requested_by=SYSTEM_REQUESTER)
    again = apply_for_loan(session, asha, ask, "key-00000004", NOW, requested_by=SYSTEM_REQUESTER)
    assert again.id == first.id
    with pytest.raises(IdempotencyConflict):
        apply_for_loan(
            session,
            asha,
            LoanAsk("PERSONAL_EMI", Decimal("60000"), Decimal("14"), 6),
            "key-00000004",
            NOW,
            requested_by=SYSTEM_REQUESTER,
        )
    assert session.exec(select(func.count()).select_from(Loan)).one() == 1


def test_one_undecided_application_per_product(session: Session) -> None:
    asha = customer(session)
    asha.customer_number = "234774784"  # the scored product needs a core banking customer
    pending = apply_for_loan(
        session,
        asha,
        LoanAsk("SCORED_MICRO", Decimal("5000"), None, 30),
        "key-00000005",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert pending.status is ApplicationStatus.PENDING
    with pytest.raises(ApplicationPending):
        apply_for_loan(
            session,
            asha,
            LoanAsk("SCORED_MICRO", Decimal("6000"), None, 30),
            "key-00000006",
            NOW,
            requested_by=SYSTEM_REQUESTER,
        )
    fund_pool(session)
    other = apply_for_loan(
        session,
        asha,
        LoanAsk("P2P_FLAT", Decimal("1000")),
        "key-00000007",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert other.status is ApplicationStatus.APPROVED


def test_a_scored_product_needs_a_core_banking_customer(session: Session) -> None:
    asha = customer(session)
    with pytest.raises(NotACoreBankingCustomer):
        apply_for_loan(
            session,
            asha,
            LoanAsk("SCORED_MICRO", Decimal("5000"), None, 30),
            "key-00000008",
            NOW,
            requested_by=SYSTEM_REQUESTER,
        )
    assert session.exec(select(func.count()).select_from(LoanApplication)).one() == 0


def test_a_pending_scored_application_asks_the_engine_only_after_commit(
    session: Session,
) -> None:
    asha = customer(session)
    asha.customer_number = "234774784"
    pending = apply_for_loan(
        session,
        asha,
        LoanAsk("SCORED_MICRO", Decimal("5000"), None, 30),
        "key-00000009",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    scoring = session.get(ExternalScoring, pending.id)
    assert scoring is not None and scoring.stage is ScoringStage.INITIATE
    jobs = session.exec(select(OutboxMessage).where(OutboxMessage.name == INITIATE_ACTOR)).all()
    assert [job.payload for job in jobs] == [{"application_id": pending.id, "step": 1}]
    assert jobs[0].dispatched_at is None


def test_new_loan_numbers_follow_the_highest_in_use(session: Session) -> None:
    asha = customer(session)
    assert asha.id is not None
    session.add(
        Loan(
            number=90_000,
            customer_id=asha.id,
            principal_minor=1,
            interest_rate=1,
            tenure=1,
            installment_minor=1,
            start_date=date(2020, 1, 1),
            end_date=date(2020, 2, 1),
            status=LoanStatus.PAID,
            origin="IMPORTED",
        )
    )
    session.flush()
    from domain.loans import advance_loan_numbers

    advance_loan_numbers(session)
    application = apply_for_loan(
        session,
        asha,
        LoanAsk("WEEKLY_FLAT", Decimal("200000"), None, 10),  # limits only: history aside
        "key-00000008",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert session.get(Loan, application.loan_id).number > 90_000  # type: ignore[union-attr]


def test_concurrent_requests_with_one_key_make_one_application(postgresql_url: str) -> None:
    from app.db import make_engine, make_session_factory
    from tests.databases import empty_all_tables

    engine = make_engine(postgresql_url, pool_size=12)
    empty_all_tables(engine)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    with sessions() as session:
        customer_id = customer(session).id
        session.commit()

    def attempt(_: int) -> int | None:
        with sessions() as session:
            asha = session.get(Customer, customer_id)
            assert asha is not None
            application = apply_for_loan(
                session,
                asha,
                LoanAsk("PERSONAL_EMI", Decimal("50000"), Decimal("14"), 6),
                "same-key-0001",
                NOW,
                requested_by=SYSTEM_REQUESTER,
            )
            session.commit()
            return application.id

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            ids = set(pool.map(attempt, range(10)))
        with sessions() as session:
            assert session.exec(select(func.count()).select_from(LoanApplication)).one() == 1
            assert session.exec(select(func.count()).select_from(Loan)).one() == 1
            assert verify_ledger(session) == []
        assert len(ids) == 1
    finally:
        engine.dispose()


def test_concurrent_applications_cannot_slip_past_the_emi_rule_together(
    postgresql_url: str,
) -> None:
    from app.db import make_engine, make_session_factory
    from tests.databases import empty_all_tables

    engine = make_engine(postgresql_url, pool_size=8)
    empty_all_tables(engine)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    with sessions() as session:
        customer_id = customer(session).id  # half the salary: 25,000 of EMIs
        session.commit()

    def attempt(n: int) -> ApplicationStatus:
        with sessions() as session:
            asha = session.get(Customer, customer_id)
            assert asha is not None
            application = apply_for_loan(
                session,
                asha,
                LoanAsk("PERSONAL_EMI", Decimal("200000"), Decimal("14"), 12),
                f"race-key-{n:04d}",
                NOW,
                requested_by=SYSTEM_REQUESTER,
            )
            session.commit()
            return application.status

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(attempt, range(4)))
        # each EMI is about 17,957: one fits under 25,000, two never do
        assert outcomes.count(ApplicationStatus.APPROVED) == 1
        with sessions() as session:
            assert verify_ledger(session) == []
    finally:
        engine.dispose()
