"""The daily close in the domain: card interest accrues daily (RULES.md §4), each business
day is closed once, in order, chunk by chunk, and closing anything twice changes nothing."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, func, select

from domain.applications import LoanAsk
from domain.billing.accrual import NANO_PER_MINOR, InterestAccrual
from domain.billing.bills import CardBill
from domain.billing.calendar import BusinessDateFixed, calendar, pin_business_date
from domain.billing.runs import (
    CHUNK_ACTOR,
    BillingChunk,
    BillingRun,
    ChunkStatus,
    RunStatus,
    close_chunk,
    fail_chunk,
    open_run,
    request_close,
    resume_stalled_runs,
)
from domain.errors import InvalidInput
from domain.idempotency import SYSTEM_REQUESTER
from domain.ledger import LedgerAccount, verify_ledger
from domain.loans import Loan, LoanOrigin, LoanStatus
from domain.origination import _disburse, apply_for_loan
from domain.outbox import OutboxMessage
from domain.products import product_by_code
from tests.domain.test_origination import customer

DISBURSED = date(2026, 11, 1)
NOW = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)


def card_loan(session: Session, number: int, principal: str = "5000", apr: str = "12.5") -> Loan:
    """A card loan as origination makes it: 12 cycles of 30 days, the last due 15 days on."""
    owner = session.exec(select(Loan.customer_id)).first() or customer(session).id
    assert owner is not None
    product = product_by_code(session, "CREDIT_CARD")
    loan = Loan(
        number=number,
        customer_id=owner,
        product_id=product.id,
        currency="INR",
        principal_minor=int(Decimal(principal) * 100),
        interest_rate=Decimal(apr),
        tenure=12,
        term_unit="MONTH",
        installment_minor=1,
        start_date=DISBURSED,
        end_date=DISBURSED + timedelta(days=12 * 30 + 15),
        status=LoanStatus.ACTIVE,
        origin=LoanOrigin.ORIGINATED,
    )
    session.add(loan)
    session.flush()
    _disburse(session, loan, DISBURSED)
    return loan


def close_days(session: Session, through: date, chunk_size: int = 2) -> list[BillingRun]:
    """What the workers do, in one process: open each queued run, close its chunks."""
    runs = request_close(session, through, NOW)
    while True:
        waiting = session.exec(
            select(BillingRun)
            .where(col(BillingRun.status) == RunStatus.PENDING)
            .order_by(col(BillingRun.business_date))
        ).first()
        if waiting is None or waiting.id is None:
            return runs
        open_run(session, waiting.id, chunk_size, NOW)
        pending = select(BillingChunk.id).where(col(BillingChunk.status) == ChunkStatus.PENDING)
        for chunk_id in session.exec(pending).all():
            assert chunk_id is not None
            close_chunk(session, chunk_id, NOW)


def accrued(session: Session, loan: Loan) -> Decimal:
    nano = session.exec(
        select(func.sum(InterestAccrual.amount_nano)).where(InterestAccrual.loan_id == loan.id)
    ).one()
    return Decimal(nano or 0) / NANO_PER_MINOR / 100


def pin(session: Session, day: date) -> None:
    pin_business_date(session, day, NOW, allowed=True)


def test_a_5000_card_at_12_5_percent_accrues_1_70_a_day_and_51_a_cycle(
    session: Session,
) -> None:
    loan = card_loan(session, 9001)
    pin(session, DISBURSED + timedelta(days=31))
    close_days(session, DISBURSED)  # the day of disbursement accrues nothing

    close_days(session, DISBURSED + timedelta(days=1))
    assert accrued(session, loan) == Decimal("1.70")
    close_days(session, DISBURSED + timedelta(days=30))  # catches up day by day

    assert accrued(session, loan) == Decimal("51.00")
    days = session.exec(select(func.count()).select_from(InterestAccrual)).one()
    assert days == 30
    assert calendar(session, NOW).closed_through == DISBURSED + timedelta(days=30)


def test_closing_a_day_twice_changes_nothing(session: Session) -> None:
    card_loan(session, 9001)
    card_loan(session, 9002, "50000", "10.5")
    pin(session, DISBURSED + timedelta(days=4))
    first = close_days(session, DISBURSED + timedelta(days=3))
    rows = session.exec(select(InterestAccrual).order_by(col(InterestAccrual.loan_id))).all()
    before = [(r.loan_id, r.accrued_on, r.amount_nano) for r in rows]
    messages = session.exec(select(func.count()).select_from(OutboxMessage)).one()

    again = close_days(session, DISBURSED + timedelta(days=3))

    assert [r.id for r in again] == [first[-1].id]
    rows = session.exec(select(InterestAccrual).order_by(col(InterestAccrual.loan_id))).all()
    assert [(r.loan_id, r.accrued_on, r.amount_nano) for r in rows] == before
    assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == messages
    # 50,000 at 10.5 %: 0.029 % a day is 14.50 (RULES.md §4: 435.00 a cycle)
    assert rows[-1].amount_nano == 1450 * NANO_PER_MINOR


def test_a_chunk_closed_twice_accrues_once(session: Session) -> None:
    loan = card_loan(session, 9001)
    pin(session, DISBURSED + timedelta(days=2))
    close_days(session, DISBURSED)
    request_close(session, DISBURSED + timedelta(days=1), NOW)
    run = session.exec(select(BillingRun).where(col(BillingRun.status) == "PENDING")).one()
    assert run.id is not None
    open_run(session, run.id, 10, NOW)
    chunk = session.exec(select(BillingChunk).where(BillingChunk.run_id == run.id)).one()
    assert chunk.id is not None

    assert close_chunk(session, chunk.id, NOW) is True
    assert close_chunk(session, chunk.id, NOW) is False  # redelivered

    assert accrued(session, loan) == Decimal("1.70")
    assert run.status is RunStatus.COMPLETED and run.chunks_done == 1 and run.loans == 1


def test_days_close_in_order_and_a_failed_day_holds_back_the_next(session: Session) -> None:
    for number in range(9001, 9006):
        card_loan(session, number)
    pin(session, DISBURSED + timedelta(days=3))
    close_days(session, DISBURSED)
    runs = request_close(session, DISBURSED + timedelta(days=2), NOW)
    day1, day2 = runs
    assert day1.id is not None and day2.id is not None
    assert open_run(session, day2.id, 2, NOW) == 0  # not before day 1
    assert open_run(session, day1.id, 2, NOW) == 3  # five loans, chunks of two
    chunks = session.exec(select(BillingChunk).where(BillingChunk.run_id == day1.id)).all()
    assert [(c.first_loan_id, c.last_loan_id, c.loans) for c in chunks][-1][2] == 1
    for chunk in chunks[:-1]:
        assert chunk.id is not None
        close_chunk(session, chunk.id, NOW)
    assert chunks[-1].id is not None
    fail_chunk(session, chunks[-1].id, "OperationalError: the database went away", NOW)
    assert day1.status is RunStatus.FAILED
    assert calendar(session, NOW).closed_through == DISBURSED

    close_days(session, DISBURSED + timedelta(days=2))  # asking again retries the failed chunk

    assert (day1.status, day2.status) == (RunStatus.COMPLETED, RunStatus.COMPLETED)
    assert calendar(session, NOW).closed_through == DISBURSED + timedelta(days=2)
    assert session.exec(select(func.count()).select_from(InterestAccrual)).one() == 10


def test_a_day_is_closed_only_once_it_is_over(session: Session) -> None:
    pin(session, DISBURSED)
    with pytest.raises(InvalidInput):
        request_close(session, DISBURSED, NOW)  # the business day itself goes on
    with pytest.raises(InvalidInput):
        request_close(session, DISBURSED + timedelta(days=1), NOW)
    with pytest.raises(BusinessDateFixed):
        pin_business_date(session, DISBURSED, NOW, allowed=False)


def bills_of(session: Session, loan: Loan) -> list[CardBill]:
    return list(
        session.exec(
            select(CardBill).where(CardBill.loan_id == loan.id).order_by(col(CardBill.number))
        ).all()
    )


def test_the_first_bill_of_5000_at_12_5_percent_asks_201(session: Session) -> None:
    loan = card_loan(session, 9001)
    billing_date = DISBURSED + timedelta(days=30)
    pin(session, billing_date + timedelta(days=1))
    close_days(session, DISBURSED)

    close_days(session, billing_date)

    (bill,) = bills_of(session, loan)
    assert (bill.number, bill.billing_date, bill.due_date) == (
        1,
        billing_date,
        billing_date + timedelta(days=15),
    )
    assert (bill.interest_minor, bill.principal_minor, bill.past_due_minor) == (5100, 15000, 0)
    assert bill.minimum_due_minor == 20100 and not bill.final
    assert verify_ledger(session) == []
    receivable = session.exec(
        select(LedgerAccount).where(LedgerAccount.code == "loan:9001:interest")
    ).one()
    assert receivable.balance_minor == 5100  # the cycle's interest, booked as billed


def test_an_unpaid_minimum_is_carried_as_past_due_and_the_final_bill_asks_everything(
    session: Session,
) -> None:
    loan = card_loan(session, 9001)
    pin(session, DISBURSED + timedelta(days=361))
    close_days(session, DISBURSED)

    close_days(session, DISBURSED + timedelta(days=360))

    bills = bills_of(session, loan)
    assert [b.number for b in bills] == list(range(1, 13))
    assert bills[1].past_due_minor == bills[0].minimum_due_minor == 20100
    assert bills[1].minimum_due_minor == 20100 + 20100  # same principal, same interest
    assert bills[-1].final and bills[-1].principal_minor == 500000  # everything owed
    assert bills[-1].interest_minor == 5100
    # everything owed, once: the principal, this cycle's interest and 11 cycles' unpaid
    # interest; the unpaid minimums' principal parts are part of the balance already
    assert bills[-1].minimum_due_minor == 500000 + 12 * 5100
    assert verify_ledger(session) == []


def test_chunks_whose_jobs_were_lost_are_queued_again(session: Session) -> None:
    for number in range(9001, 9004):
        card_loan(session, number)
    pin(session, DISBURSED + timedelta(days=2))
    close_days(session, DISBURSED)
    (run,) = request_close(session, DISBURSED + timedelta(days=1), NOW)
    assert run.id is not None
    open_run(session, run.id, 1, NOW)  # three chunks queued... and their jobs lost
    chunk_jobs = col(OutboxMessage.name) == CHUNK_ACTOR
    queued = session.exec(select(func.count()).select_from(OutboxMessage).where(chunk_jobs)).one()

    assert resume_stalled_runs(session, NOW, timedelta(minutes=2)) == 0  # not stalled yet
    assert resume_stalled_runs(session, NOW + timedelta(minutes=3), timedelta(minutes=2)) == 3

    again = session.exec(select(func.count()).select_from(OutboxMessage).where(chunk_jobs)).one()
    assert again == queued + 3


def test_no_loan_is_paid_out_on_a_day_already_closed(session: Session) -> None:
    asha = customer(session)
    pin(session, DISBURSED + timedelta(days=3))
    close_days(session, DISBURSED + timedelta(days=2))

    with pytest.raises(InvalidInput) as refused:
        apply_for_loan(
            session,
            asha,
            LoanAsk("PERSONAL_EMI", Decimal("50000"), Decimal("14"), 6, DISBURSED + timedelta(1)),
            "key-closed-day",
            NOW,
            requested_by=SYSTEM_REQUESTER,
        )
    assert refused.value.problems[0].field == "disbursementDate"


def test_chunks_closed_at_once_by_many_workers_count_once_and_finish_the_day(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        for number in range(9001, 9013):
            card_loan(session, number)
        pin(session, DISBURSED + timedelta(days=2))
        close_days(session, DISBURSED)
        (run,) = request_close(session, DISBURSED + timedelta(days=1), NOW)
        assert run.id is not None
        open_run(session, run.id, 1, NOW)
        chunk_ids = [
            c.id for c in session.exec(select(BillingChunk).where(BillingChunk.run_id == run.id))
        ]
        session.commit()

    def close(chunk_id: int | None) -> None:
        assert chunk_id is not None
        with session_factory() as own:
            close_chunk(own, chunk_id, NOW)
            own.commit()

    with ThreadPoolExecutor(6) as pool:
        for future in [pool.submit(close, c) for c in chunk_ids]:
            future.result()  # a deadlock or lost update would raise or miscount here

    with session_factory() as session:
        done = session.get(BillingRun, run.id)
        assert done is not None and done.status is RunStatus.COMPLETED
        assert (done.chunks_done, done.loans, done.accruals) == (12, 12, 12)
        assert calendar(session, NOW).closed_through == DISBURSED + timedelta(days=1)
