"""Provider funding, all or nothing (RULES.md §2): worked numbers, concurrency, shares."""

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from domain.applications import LoanAsk
from domain.customers import Customer, Registration, register_customer
from domain.funding import Funding, repayment_shares, wallet_shares
from domain.idempotency import SYSTEM_REQUESTER
from domain.ledger import verify_ledger
from domain.loans import Loan, LoanStatus
from domain.money import Money
from domain.origination import ApplicationStatus, apply_for_loan
from domain.providers import Provider, balances, move_funds, register_provider
from domain.users import Role, create_user

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


def funded_provider(session: Session, name: str, amount: str) -> Provider:
    provider = register_provider(
        session, username=name, password="long enough pass", name=name, currency="INR", now=NOW
    )
    move_funds(
        session,
        provider,
        kind="ADD",
        amount=inr(amount),
        source=None,
        key=f"seed-{name}-key",
        now=NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    return provider


def borrower(session: Session, n: int) -> Customer:
    staff = create_user(session, f"staff{n:04d}", "long enough pass", Role.STAFF)
    return register_customer(
        session,
        Registration("B", "C", f"+9198000{n:05d}", age=30, monthly_income=Decimal("50000")),
        NOW.date(),
        staff,
    )


def test_rules_section_2_funding_example(session: Session) -> None:
    a, b, c = (
        funded_provider(session, n, amt)
        for n, amt in (("prov_a", "300"), ("prov_b", "500"), ("prov_c", "1000"))
    )
    application = apply_for_loan(
        session,
        borrower(session, 1),
        LoanAsk("P2P_FLAT", Decimal("1000")),
        "p2p-key-0001",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    loan = session.get(Loan, application.loan_id)
    assert loan is not None and loan.status is LoanStatus.ACTIVE
    shares = {f.provider_id: f.amount_minor for f in session.exec(select(Funding)).all()}
    assert shares == {a.id: 300_00, b.id: 500_00, c.id: 200_00}
    left = balances(session, [a, b, c])
    assert [left[p.id or 0][0] for p in (a, b, c)] == [inr("0"), inr("0"), inr("800")]
    assert verify_ledger(session) == []


def test_a_pool_that_cannot_cover_the_loan_rejects_it_and_changes_nothing(
    session: Session,
) -> None:
    providers = [
        funded_provider(session, "prov_d", "2400"),
        funded_provider(session, "prov_e", "2400"),
    ]
    application = apply_for_loan(
        session,
        borrower(session, 2),
        LoanAsk("P2P_FLAT", Decimal("5000")),
        "p2p-key-0002",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert application.status is ApplicationStatus.REJECTED and application.loan_id is None
    assert application.reasons[-1]["code"] == "INSUFFICIENT_POOL_FUNDS"
    assert "4800.00 INR" in application.reasons[-1]["message"]
    left = balances(session, providers)
    assert [left[p.id or 0][0] for p in providers] == [inr("2400"), inr("2400")]
    assert session.exec(select(func.count()).select_from(Loan)).one() == 0


def test_fifty_concurrent_applications_never_lend_more_than_the_pool(
    postgresql_url: str,
) -> None:
    from app.db import make_engine, make_session_factory
    from tests.databases import empty_all_tables

    engine = make_engine(postgresql_url, pool_size=20)
    empty_all_tables(engine)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    with sessions() as session:
        for n, amount in enumerate(("7000", "5500", "4000", "3500")):  # 20,000 in all
            funded_provider(session, f"pool_{n}", amount)
        customer_ids = [borrower(session, 100 + n).id for n in range(50)]
        session.commit()

    def apply(n: int) -> ApplicationStatus:
        with sessions() as session:
            customer = session.get(Customer, customer_ids[n])
            assert customer is not None
            application = apply_for_loan(
                session,
                customer,
                LoanAsk("P2P_FLAT", Decimal("1000")),
                f"p2p-race-{n:04d}",
                NOW,
                requested_by=SYSTEM_REQUESTER,
            )
            session.commit()
            return application.status

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            outcomes = list(pool.map(apply, range(50)))
        assert outcomes.count(ApplicationStatus.APPROVED) == 20
        with sessions() as session:
            lent = session.exec(select(func.sum(Funding.amount_minor))).one()
            assert lent == 20_000_00
            per_loan = session.exec(
                select(Funding.loan_id, func.sum(Funding.amount_minor)).group_by(Funding.loan_id)
            ).all()
            assert len(per_loan) == 20 and all(total == 1000_00 for _, total in per_loan)
            providers = session.exec(select(Provider)).all()
            assert all(b[0] == inr("0") for b in balances(session, list(providers)).values())
            assert verify_ledger(session) == []
    finally:
        engine.dispose()


def test_repayments_of_the_rules_example_split_exactly() -> None:
    fundings = [
        Funding(loan_id=1, provider_id=pid, amount_minor=minor)
        for pid, minor in ((1, 300_00), (2, 500_00), (3, 200_00))
    ]
    assert repayment_shares(fundings, inr("525")) == [
        (1, inr("157.50")),
        (2, inr("262.50")),
        (3, inr("105.00")),
    ]
    assert repayment_shares(fundings, inr("1050")) == [
        (1, inr("315")),
        (2, inr("525")),
        (3, inr("210")),
    ]


@given(st.lists(st.integers(1, 10_000_00), min_size=1, max_size=12), st.integers(1, 20_000_00))
def test_shares_are_non_negative_exact_and_within_a_unit_of_the_proportion(
    funded: list[int], repaid: int
) -> None:
    fundings = [Funding(loan_id=1, provider_id=n + 1, amount_minor=m) for n, m in enumerate(funded)]
    shares = repayment_shares(fundings, Money.from_minor(repaid, "INR"))
    assert sum(share.to_minor() for _, share in shares) == repaid
    for (_, share), minor in zip(shares, funded, strict=True):
        exact = Decimal(repaid) * minor / sum(funded)
        assert share.to_minor() >= 0 and abs(share.to_minor() - exact) < 1


@given(
    st.lists(st.integers(1, 10_000_00), min_size=1, max_size=12),
    st.integers(1, 20_000_00),
    st.lists(st.integers(0, 10_000_00), min_size=12, max_size=12),
)
def test_wallet_shares_are_exact_non_negative_and_within_a_unit_of_the_proportion(
    funded: list[int], repaid: int, earlier: list[int]
) -> None:
    fundings = [Funding(loan_id=1, provider_id=n + 1, amount_minor=m) for n, m in enumerate(funded)]
    received = {n + 1: earlier[n] for n in range(len(funded))}
    parts = wallet_shares(fundings, repaid, received)
    assert sum(parts) == repaid
    for part, minor in zip(parts, funded, strict=True):
        exact = Fraction(repaid * minor, sum(funded))
        assert part >= 0 and abs(part - exact) < 1


def test_many_small_repayments_keep_every_wallet_near_its_exact_share() -> None:
    """The drift the plain largest remainder has (10.01 split 300/500/200 gives the 500
    funder every leftover cent) does not build up: over long runs of repayments each
    funder stays within one minor unit of its exact share of everything repaid."""
    fundings = [
        Funding(loan_id=1, provider_id=pid, amount_minor=m)
        for pid, m in ((1, 300_00), (2, 500_00), (3, 200_00))
    ]
    received: dict[int, int] = {}
    for _ in range(100):
        for f, part in zip(fundings, wallet_shares(fundings, 1001, received), strict=True):
            received[f.provider_id] = received.get(f.provider_id, 0) + part
    assert received == {1: 30030, 2: 50050, 3: 20020}
    generator = random.Random(2026)
    for _ in range(300):
        fundings = [
            Funding(loan_id=1, provider_id=n + 1, amount_minor=generator.randint(1, 10**6))
            for n in range(generator.randint(1, 8))
        ]
        whole = sum(f.amount_minor for f in fundings)
        received, total = {}, 0
        for _ in range(generator.randint(1, 60)):
            amount = generator.choice([1, 2, 3, 7, generator.randint(1, 10**6)])
            for f, part in zip(fundings, wallet_shares(fundings, amount, received), strict=True):
                received[f.provider_id] = received.get(f.provider_id, 0) + part
            total += amount
            for f in fundings:
                exact = Fraction(total * f.amount_minor, whole)
                assert abs(received[f.provider_id] - exact) < 1
