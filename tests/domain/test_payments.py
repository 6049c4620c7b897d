"""Repayments (RULES.md §0, §1, §2, §5, §6): worked numbers, allocation, refusals that
change nothing, idempotency, and concurrency on PostgreSQL with real threads."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, func, select

from domain.applications import LoanAsk
from domain.errors import DomainError, IdempotencyConflict, InvalidInput
from domain.funding import Funding
from domain.idempotency import SYSTEM_REQUESTER
from domain.ledger import JournalLine, LedgerAccount, verify_ledger
from domain.loans import Loan, LoanOrigin, LoanStatus
from domain.money import Money
from domain.origination import ScheduledDue, apply_for_loan, schedules_of, still_owed
from domain.outbox import OutboxMessage
from domain.payments import (
    AllocationKind,
    LoanClosed,
    LoanNotDisbursed,
    Payment,
    PaymentAllocation,
    PaymentExceedsOutstanding,
    PaymentMustMatchInstallment,
    PaymentRequest,
    PaymentsNotAccepted,
    Rules,
    make_payment,
    payable,
    plan,
)
from domain.products import PaymentRule, RepaymentStyle
from domain.providers import Provider, balances
from tests.domain.test_funding import NOW, borrower, funded_provider

START = date(2026, 11, 2)
LATER = date(2027, 12, 31)  # "today" for tests that pay along a whole schedule


def open_loan(session: Session, ask: LoanAsk, n: int = 1, key: str = "loan-key-0001") -> Loan:
    application = apply_for_loan(
        session, borrower(session, n), ask, key, NOW, requested_by=SYSTEM_REQUESTER
    )
    loan = session.get(Loan, application.loan_id)
    assert loan is not None, application.reasons
    return loan


def pay(
    session: Session,
    loan: Loan,
    amount: str,
    key: str,
    paid_on: date | None = None,
    today: date = LATER,
) -> Payment:
    return make_payment(
        session,
        PaymentRequest(loan.id or 0, Decimal(amount), paid_on, key),
        today=today,
        now=NOW,
        requested_by=SYSTEM_REQUESTER,
    )


def owed(session: Session, loan: Loan) -> Money:
    return still_owed(schedules_of(session, [loan.id or 0])[loan.id or 0], loan.currency).total


def snapshot(session: Session) -> tuple[Any, ...]:
    """Everything a payment could change."""
    session.expire_all()
    return (
        sorted((a.code, a.balance_minor) for a in session.exec(select(LedgerAccount))),
        session.exec(select(func.count()).select_from(JournalLine)).one(),
        sorted(
            (
                d.id,
                d.principal_minor,
                d.interest_minor,
                d.paid_principal_minor,
                d.paid_interest_minor,
                d.paid_on,
            )
            for d in session.exec(select(ScheduledDue))
        ),
        sorted(
            (loan.id, loan.status, loan.installment_minor) for loan in session.exec(select(Loan))
        ),
        session.exec(select(func.count()).select_from(Payment)).one(),
        session.exec(select(func.count()).select_from(PaymentAllocation)).one(),
        session.exec(select(func.count()).select_from(OutboxMessage)).one(),
    )


def refused(session: Session, attempt: Callable[[], Any], error: type[DomainError]) -> DomainError:
    """The attempt is refused with `error` and, once rolled back, nothing changed."""
    session.commit()
    before = snapshot(session)
    with pytest.raises(error) as caught:
        attempt()
    session.rollback()
    assert snapshot(session) == before
    return caught.value


def weekly_loan(session: Session) -> Loan:
    return open_loan(session, LoanAsk("WEEKLY_FLAT", Decimal("5000000"), None, 50, START))


def test_rules_section_5_weekly_flat_loan(session: Session) -> None:
    loan = weekly_loan(session)
    pay(session, loan, "110000", "week-pay-0001")
    assert owed(session, loan) == Money.of("5390000", "IDR")
    for week in range(2, 11):
        pay(session, loan, "110000", f"week-pay-{week:04d}")
    assert owed(session, loan) == Money.of("4400000", "IDR")
    error = refused(
        session, lambda: pay(session, loan, "100000", "week-bad-0001"), PaymentMustMatchInstallment
    )
    assert error.expected == Money.of("110000", "IDR")  # type: ignore[attr-defined]
    for week in range(11, 51):
        pay(session, loan, "110000", f"week-pay-{week:04d}")
    assert owed(session, loan) == Money.zero("IDR")
    assert loan.status is LoanStatus.PAID
    refused(session, lambda: pay(session, loan, "110000", "week-late-0001"), LoanClosed)
    principal = session.exec(
        select(LedgerAccount).where(LedgerAccount.code == f"loan:{loan.number}:principal")
    ).one()
    assert principal.balance_minor == 0
    income = session.exec(
        select(LedgerAccount).where(LedgerAccount.code == "income:interest:IDR")
    ).one()
    assert income.balance == Money.of("500000", "IDR")
    assert verify_ledger(session) == []


def test_one_exact_payment_pays_one_installment_interest_first(session: Session) -> None:
    loan = weekly_loan(session)
    pay(session, loan, "110000", "week-one-0001")
    allocation = session.exec(select(PaymentAllocation)).one()
    assert (
        allocation.installment_number,
        allocation.interest_minor,
        allocation.principal_minor,
    ) == (1, 10_000_00, 100_000_00)


def test_rules_section_2_repayments_are_shared_to_the_wallets(session: Session) -> None:
    a, b, c = (
        funded_provider(session, n, x)
        for n, x in (("prov_a", "300"), ("prov_b", "500"), ("prov_c", "1000"))
    )
    loan = open_loan(session, LoanAsk("P2P_FLAT", Decimal("1000"), start=START))
    payment = pay(session, loan, "525", "p2p-pay-0001")
    assert (payment.interest, payment.principal) == (Money.of("50", "INR"), Money.of("475", "INR"))
    wallets = balances(session, [a, b, c])
    assert [wallets[p.id or 0][1] for p in (a, b, c)] == [
        Money.of(x, "INR") for x in ("157.50", "262.50", "105.00")
    ]
    assert owed(session, loan) == Money.of("525", "INR")
    pay(session, loan, "525", "p2p-pay-0002")
    wallets = balances(session, [a, b, c])
    assert [wallets[p.id or 0][1] for p in (a, b, c)] == [
        Money.of(x, "INR") for x in ("315", "525", "210")
    ]
    assert loan.status is LoanStatus.PAID
    lent = session.exec(
        select(LedgerAccount).where(col(LedgerAccount.code).like("provider:%:lent"))
    ).all()
    assert lent and all(account.balance_minor == 0 for account in lent)
    refused(session, lambda: pay(session, loan, "1", "p2p-pay-0003"), LoanClosed)
    assert verify_ledger(session) == []


def test_the_full_amount_of_a_p2p_loan_closes_it_in_one_payment(session: Session) -> None:
    a, b, c = (
        funded_provider(session, n, x)
        for n, x in (("prov_a", "300"), ("prov_b", "500"), ("prov_c", "1000"))
    )
    loan = open_loan(session, LoanAsk("P2P_FLAT", Decimal("1000"), start=START))
    refused(
        session, lambda: pay(session, loan, "1050.01", "p2p-over-0001"), PaymentExceedsOutstanding
    )
    pay(session, loan, "1050", "p2p-full-0001")
    wallets = balances(session, [a, b, c])
    assert [wallets[p.id or 0][1] for p in (a, b, c)] == [
        Money.of(x, "INR") for x in ("315", "525", "210")
    ]
    assert loan.status is LoanStatus.PAID


def test_lent_balances_reach_zero_exactly_through_many_odd_payments(session: Session) -> None:
    for name, amount in (("prov_x", "333.33"), ("prov_y", "333.33"), ("prov_z", "1000")):
        funded_provider(session, name, amount)
    loan = open_loan(session, LoanAsk("P2P_FLAT", Decimal("1000"), start=START))
    for n in range(7):
        pay(
            session,
            loan,
            "0.07" if n < 6 else str(Decimal("1050") - Decimal("0.42")),
            f"odd-{n:05d}",
        )
    assert loan.status is LoanStatus.PAID
    lent = session.exec(
        select(LedgerAccount).where(col(LedgerAccount.code).like("provider:%:lent"))
    ).all()
    assert [account.balance_minor for account in lent] == [0, 0, 0]
    wallets = session.exec(
        select(func.sum(LedgerAccount.balance_minor)).where(
            col(LedgerAccount.code).like("provider:%:wallet")
        )
    ).one()
    assert wallets == 1050_00


def emi_loan(session: Session, n: int = 1) -> Loan:
    return open_loan(
        session, LoanAsk("PERSONAL_EMI", Decimal("100000"), Decimal("12"), 12, START), n
    )


def test_rules_section_1_prepayment_lowers_the_later_installments(session: Session) -> None:
    loan = emi_loan(session)
    dues = schedules_of(session, [loan.id or 0])[loan.id or 0]
    emi = dues[0].remaining
    assert emi == 8_884_88  # 100,000 at 12 % over 12 months
    first = pay(session, loan, "8884.88", "emi-pay-0001", paid_on=dues[0].due_date)
    assert first.interest_minor == dues[0].interest_minor  # a month's interest first
    # In the second period: the second EMI, and 20,000 more prepays principal.
    prepaid = pay(session, loan, "28884.88", "emi-pay-0002", paid_on=dues[1].due_date)
    parts = session.exec(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == prepaid.id)
    ).all()
    assert [(p.kind, p.installment_number) for p in parts] == [
        (AllocationKind.INSTALLMENT, 2),
        (AllocationKind.PREPAYMENT, None),
    ]
    assert parts[1].principal_minor == 20_000_00
    after = schedules_of(session, [loan.id or 0])[loan.id or 0]
    assert len(after) == 12  # the term is kept
    lowered = after[2].principal_minor + after[2].interest_minor
    assert lowered < emi and loan.installment_minor == lowered
    # principal still sums exactly: the installments' parts and the prepayment
    assert sum(d.principal_minor for d in after) + 20_000_00 == 100_000_00
    assert [d.due_date for d in after] == [d.due_date for d in dues]
    # Paying every later installment as scheduled closes the loan with nothing left over.
    for due in after[2:]:
        amount = Money.from_minor(due.remaining, "INR").amount
        pay(session, loan, str(amount), f"emi-rest-{due.number:03d}", paid_on=due.due_date)
    assert loan.status is LoanStatus.PAID and loan.emis_paid_on_time == 12
    principal_paid = session.exec(select(func.sum(Payment.principal_minor))).one()
    assert principal_paid == 100_000_00
    assert verify_ledger(session) == []


def test_an_emi_paid_early_pays_that_emi_and_a_late_one_pays_arrears_first(
    session: Session,
) -> None:
    loan = emi_loan(session)
    dues = schedules_of(session, [loan.id or 0])[loan.id or 0]
    early = pay(
        session, loan, "8884.88", "emi-early-01", paid_on=dues[0].due_date - timedelta(days=3)
    )
    parts = session.exec(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == early.id)
    ).all()
    assert [(p.kind, p.installment_number) for p in parts] == [(AllocationKind.INSTALLMENT, 1)]
    # Two months later: installments 2 and 3 are both due; 10,000 pays 2 whole, then 3's
    # interest, then part of its principal.
    late = pay(session, loan, "10000", "emi-late-01", paid_on=dues[2].due_date)
    parts = session.exec(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == late.id)
    ).all()
    assert [p.installment_number for p in parts] == [2, 3]
    assert parts[0].principal_minor + parts[0].interest_minor == 8_884_88
    assert parts[1].interest_minor == dues[2].interest_minor
    assert loan.emis_paid_on_time == 1  # installment 2 was paid late


def test_paying_off_an_emi_loan_early_waives_the_unearned_interest(session: Session) -> None:
    loan = emi_loan(session)
    dues = schedules_of(session, [loan.id or 0])[loan.id or 0]
    on = dues[0].due_date
    payoff = dues[0].remaining + sum(d.principal_minor for d in dues[1:])
    refused(
        session,
        lambda: pay(
            session, loan, str(Money.from_minor(payoff + 1, "INR").amount), "emi-over-01", on
        ),
        PaymentExceedsOutstanding,
    )
    pay(session, loan, str(Money.from_minor(payoff, "INR").amount), "emi-off-001", paid_on=on)
    assert loan.status is LoanStatus.PAID
    assert loan.emis_paid_on_time == 12  # the one due, and eleven paid early
    assert [d.number for d in schedules_of(session, [loan.id or 0])[loan.id or 0]] == [1]
    assert verify_ledger(session) == []


def test_every_refused_payment_changes_nothing(session: Session) -> None:
    loan = emi_loan(session)
    first_due = schedules_of(session, [loan.id or 0])[loan.id or 0][0].due_date
    pay(session, loan, "100", "emi-ok-0001", paid_on=first_due)
    cases: list[tuple[str, date | None, str, type[DomainError]]] = [
        ("0", None, "bad-amt-0001", InvalidInput),
        ("-5", None, "bad-amt-0002", InvalidInput),
        ("1.001", None, "bad-amt-0003", InvalidInput),
        ("1E+30", None, "bad-amt-0004", InvalidInput),
        ("999999999999999999999999999.99", None, "bad-amt-0005", InvalidInput),
        ("100", None, "short", InvalidInput),
        ("100", LATER + timedelta(days=1), "bad-date-001", InvalidInput),
        ("100", START - timedelta(days=1), "bad-date-002", InvalidInput),
        ("100", first_due - timedelta(days=1), "bad-date-003", InvalidInput),
        ("200000", None, "too-much-001", PaymentExceedsOutstanding),
        ("150", first_due, "emi-ok-0001", IdempotencyConflict),
    ]
    for amount, on, key, error in cases:
        refused(session, lambda a=amount, o=on, k=key: pay(session, loan, a, k, o), error)


def test_loans_that_take_no_payment_refuse_and_change_nothing(session: Session) -> None:
    pending = open_loan(
        session,
        LoanAsk("PERSONAL_EMI", Decimal("50000"), Decimal("14"), 6, START),
        2,
        "loan-key-0002",
    )
    pending.status = LoanStatus.APPROVED
    session.add(pending)
    refused(session, lambda: pay(session, pending, "100", "pend-pay-001"), LoanNotDisbursed)
    imported = Loan(
        number=9_000_001,
        customer_id=pending.customer_id,
        principal_minor=100_00,
        interest_rate=Decimal(10),
        tenure=12,
        installment_minor=10_00,
        start_date=START,
        end_date=START + timedelta(days=365),
        status=LoanStatus.ACTIVE,
        origin=LoanOrigin.IMPORTED,
    )
    session.add(imported)
    refused(session, lambda: pay(session, imported, "10", "imp-pay-0001"), PaymentsNotAccepted)


def test_a_replayed_key_returns_the_first_payment_once(session: Session) -> None:
    loan = weekly_loan(session)
    first = pay(session, loan, "110000", "replay-key-01")
    again = pay(session, loan, "110000", "replay-key-01")
    assert again.id == first.id
    assert session.exec(select(func.count()).select_from(Payment)).one() == 1
    assert owed(session, loan) == Money.of("5390000", "IDR")


def test_a_payment_books_one_balanced_entry_and_raises_an_event(session: Session) -> None:
    loan = weekly_loan(session)
    payment = pay(session, loan, "110000", "event-key-01")
    lines = session.exec(
        select(JournalLine).where(JournalLine.entry_id == payment.journal_entry_id)
    ).all()
    assert sum(line.amount_minor for line in lines) == 0 and len(lines) == 3
    event = session.exec(select(OutboxMessage).where(OutboxMessage.name == "paymentReceived")).one()
    assert event.payload["amount"] == "110000.00"
    assert event.payload["outstanding"] == "5390000.00"


# --- concurrency, PostgreSQL, real threads -------------------------------------------------


@pytest.fixture
def pg_sessions(postgresql_url: str) -> Any:
    from app.db import make_engine, make_session_factory
    from tests.databases import assert_ledger_balances, empty_all_tables

    engine = make_engine(postgresql_url, pool_size=20)
    empty_all_tables(engine)
    yield make_session_factory(engine)
    assert_ledger_balances(engine)
    engine.dispose()


def run_threads(work: Callable[[int], Any], count: int, workers: int = 16) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, range(count)))


def paying(
    sessions: sessionmaker[Session],
    loan_id: int,
    amount: Callable[[int], str],
    key: Callable[[int], str],
) -> Callable[[int], int]:
    def attempt(n: int) -> int:
        with sessions() as session:
            payment = make_payment(
                session,
                PaymentRequest(loan_id, Decimal(amount(n)), None, key(n)),
                today=LATER,
                now=NOW,
                requested_by=SYSTEM_REQUESTER,
            )
            session.commit()
            return payment.id or 0

    return attempt


def test_two_hundred_concurrent_payments_on_one_loan_lose_nothing(
    pg_sessions: sessionmaker[Session],
) -> None:
    with pg_sessions() as session:
        loan = open_loan(
            session, LoanAsk("PERSONAL_EMI", Decimal("300000"), Decimal("12"), 36, START)
        )
        loan_id, before = loan.id or 0, owed(session, loan)
        session.commit()
    # 8,199.00 in all: within the first EMI (9,964.29), so what is owed drops by exactly that
    amounts = [Decimal(40) + Decimal(n) / 100 for n in range(200)]
    run_threads(
        paying(pg_sessions, loan_id, lambda n: str(amounts[n]), lambda n: f"many-{n:05d}"), 200
    )
    with pg_sessions() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        assert session.exec(select(func.count()).select_from(Payment)).one() == 200
        assert owed(session, loan) == before - Money(sum(amounts, Decimal(0)), "INR")
        paid = session.exec(
            select(func.sum(ScheduledDue.paid_principal_minor + ScheduledDue.paid_interest_minor))
        ).one()
        assert paid == 8_199_00
        assert verify_ledger(session) == []


def test_a_hundred_requests_sharing_ten_keys_make_ten_payments(
    pg_sessions: sessionmaker[Session],
) -> None:
    with pg_sessions() as session:
        loan = open_loan(
            session, LoanAsk("PERSONAL_EMI", Decimal("300000"), Decimal("12"), 36, START)
        )
        loan_id, before = loan.id or 0, owed(session, loan)
        session.commit()
    ids = run_threads(
        paying(pg_sessions, loan_id, lambda n: "250", lambda n: f"shared-{n % 10:03d}"), 100
    )
    assert len(set(ids)) == 10
    with pg_sessions() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        assert session.exec(select(func.count()).select_from(Payment)).one() == 10
        assert owed(session, loan) == before - Money.of("2500", "INR")


def test_two_payers_racing_with_the_same_ten_keys_each_pay_once_per_key(
    pg_sessions: sessionmaker[Session],
) -> None:
    with pg_sessions() as session:
        loan = open_loan(
            session, LoanAsk("PERSONAL_EMI", Decimal("300000"), Decimal("12"), 36, START)
        )
        loan_id, before = loan.id or 0, owed(session, loan)
        session.commit()

    def attempt(n: int) -> tuple[int, int]:
        payer = 1 + n // 10 % 2  # the borrower's user and a teller, keys shared-000 to -009
        with pg_sessions() as session:
            payment = make_payment(
                session,
                PaymentRequest(loan_id, Decimal("250"), None, f"shared-{n % 10:03d}"),
                requested_by=payer,
                today=LATER,
                now=NOW,
            )
            session.commit()
            return payer, payment.id or 0

    made = run_threads(attempt, 100)
    assert len(set(made)) == 20 and len({payment for _, payment in made}) == 20
    with pg_sessions() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        assert session.exec(select(func.count()).select_from(Payment)).one() == 20
        assert owed(session, loan) == before - Money.of("5000", "INR")


def test_concurrent_p2p_payments_sharing_providers_settle_exactly(
    pg_sessions: sessionmaker[Session],
) -> None:
    with pg_sessions() as session:
        for name, amount in (("prov_a", "2700"), ("prov_b", "4500"), ("prov_c", "10000")):
            funded_provider(session, name, amount)
        loan_ids = [
            open_loan(
                session,
                LoanAsk("P2P_FLAT", Decimal("1000"), start=START),
                10 + n,
                f"p2p-loan-{n:04d}",
            ).id
            or 0
            for n in range(8)
        ]
        session.commit()

    def pay_loan(n: int) -> int:
        return paying(pg_sessions, loan_ids[n % 8], lambda _: "105", lambda _: f"p2p-many-{n:04d}")(
            n
        )

    run_threads(pay_loan, 80)  # ten payments of 105 close each loan
    with pg_sessions() as session:
        loans = session.exec(select(Loan)).all()
        assert {loan.status for loan in loans} == {LoanStatus.PAID}
        providers = list(session.exec(select(Provider)).all())
        funded = dict(
            session.exec(
                select(Funding.provider_id, func.sum(Funding.amount_minor)).group_by(
                    col(Funding.provider_id)
                )
            ).all()
        )
        wallets = balances(session, providers)
        total = sum(w.to_minor() for _, w in wallets.values())
        assert total == 8 * 1050_00
        for provider in providers:  # each funder earns its funding × 1.05, to the cent
            assert wallets[provider.id or 0][1].to_minor() == funded[provider.id] * 105 // 100
        assert verify_ledger(session) == []


# --- allocation properties -----------------------------------------------------------------


def _dues(parts: list[tuple[int, int, int]], start: date) -> list[ScheduledDue]:
    return [
        ScheduledDue(
            id=n + 1,
            loan_id=1,
            number=n + 1,
            due_date=start + timedelta(days=30 * (n + 1)),
            principal_minor=p,
            interest_minor=i,
            paid_interest_minor=min(paid, i),
            paid_principal_minor=max(0, min(paid - i, p)),
        )
        for n, (p, i, paid) in enumerate(parts)
    ]


@given(
    st.lists(
        st.tuples(st.integers(1, 10**7), st.integers(0, 10**6), st.integers(0, 2 * 10**6)),
        min_size=1,
        max_size=24,
    ),
    st.integers(1, 10**9),
    st.integers(0, 800),
    st.sampled_from([RepaymentStyle.EMI_REDUCING, RepaymentStyle.FLAT_INSTALLMENTS]),
)
def test_an_allocation_pays_exactly_the_amount_oldest_first_interest_before_principal(
    parts: list[tuple[int, int, int]], minor: int, day: int, style: RepaymentStyle
) -> None:
    dues = _dues(parts, START)
    on = START + timedelta(days=day)
    rules = Rules(style, PaymentRule.ANY_AMOUNT)
    most = payable(rules, dues, on)
    amount = Money.from_minor(minor, "INR")
    if minor > most or most == 0:
        with pytest.raises(PaymentExceedsOutstanding):
            plan(rules, dues, amount, on)
        return
    result = plan(rules, dues, amount, on)
    paid = sum(p.principal_minor + p.interest_minor for p in result.parts)
    assert paid + result.prepayment_minor == minor  # every minor unit goes somewhere
    numbers = [p.due.number for p in result.parts if p.due is not None]
    assert numbers == sorted(numbers)  # oldest first
    for n, part in enumerate(result.parts):
        assert part.due is not None
        assert 0 <= part.interest_minor <= part.due.remaining_interest
        assert 0 <= part.principal_minor <= part.due.remaining_principal
        if part.principal_minor:  # principal only once the interest is paid
            assert part.interest_minor == part.due.remaining_interest
        if n < len(result.parts) - 1:  # only the last due may be left part-paid
            assert part.principal_minor + part.interest_minor == part.due.remaining
    if result.prepayment_minor:  # a prepayment only after every due of the period is paid
        assert style is RepaymentStyle.EMI_REDUCING
        assert result.prepayment_minor <= sum(d.remaining_principal for d in result.recalculate)


def test_concurrent_payments_on_one_loan_lose_nothing_on_either_backend(
    session_factory: sessionmaker[Session],
) -> None:
    """SQLite has no row locks: the embedded mode begins each transaction with the
    database's write lock instead, so payments queue just the same."""
    with session_factory() as session:
        loan = emi_loan(session)
        loan_id, before = loan.id or 0, owed(session, loan)
        session.commit()
    run_threads(paying(session_factory, loan_id, lambda n: "10", lambda n: f"both-{n:05d}"), 20, 8)
    with session_factory() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        assert owed(session, loan) == before - Money.of("200", "INR")
        assert session.exec(select(func.count()).select_from(Payment)).one() == 20
