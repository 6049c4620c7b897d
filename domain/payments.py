"""Repayments: each applied exactly once, to the right dues in the right order (RULES.md §0,
§1, §2, §5, §6).

One `make_payment` serves every product; the product's rules choose the allocation:

- **Monthly EMI loans** (reducing balance, any amount): the payment's dues are every unpaid
  installment due on or before the paid-on date, plus the installment of the period the
  date falls in (the first one due on or after it), so an EMI paid a few days early pays
  that EMI. Dues are paid oldest first, interest before principal. What is left prepays
  principal, and the installments after it are recalculated on the lower principal over
  the same dates: the term is kept and the installment goes down. The first recalculated
  installment charges a full month's interest on the lowered balance. A payment larger than
  the dues plus the remaining principal (the pay-off amount) is refused.
- **Exact-installment loans** (weekly flat, §5): the amount must be exactly what the oldest
  unpaid installment still asks; one payment pays one installment.
- **Other installment loans** (flat interest, any amount, e.g. P2P §2): oldest first,
  interest before principal, up to everything still owed. Flat interest is fixed when the
  loan is made, so paying ahead simply pays the next installments.
- **Credit-card loans** (§4, `domain.billing.card_payments`): one payment a day, against
  what the latest bill still asks (past dues, then the minimum due), then principal.
- **Imported loans** are serviced in the system they came from: a typed refusal.

The loan row is locked first (then the ledger accounts in id order, inside `post`), so
concurrent payments on one loan queue and never lose an update; payments on different
loans never wait for each other's loan. Interest is booked as income when it is paid.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from domain.accounts import (
    bank_funds_account,
    interest_income_account,
    interest_receivable_account,
    principal_account,
)
from domain.billing.bills import bill_cycles_ended
from domain.billing.card_payments import (
    CardPlan,
    apply_card_plan,
    card_owed,
    plan_card_payment,
)
from domain.billing.delinquency import refresh
from domain.customers import Customer
from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.funding import repayment_legs
from domain.idempotency import claim_key, earlier_result, fingerprint, unique_key_per_requester
from domain.ledger import AccountSpec, Leg, credit, debit, open_accounts, post
from domain.loan_events import LOAN_UPDATED, PAYMENT_RECEIVED, announce
from domain.loans import Loan, LoanStatus
from domain.money import Money, parse_decimal
from domain.notifications import NotificationKind, notify
from domain.origination import ScheduledDue, schedules_of, still_owed
from domain.products import FundingSource, LoanProduct, PaymentRule, RepaymentStyle
from domain.schedules import reducing_installments
from domain.tables import timestamp_column

MAX_AMOUNT_MINOR = 10**15


class Payment(SQLModel, table=True):
    """Money a borrower paid on a loan, and how it was split."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="positive_amount"),
        sa.CheckConstraint(
            "principal_minor >= 0 AND interest_minor >= 0 "
            "AND principal_minor + interest_minor = amount_minor",
            name="split_sums_to_amount",
        ),
        sa.Index("ix_payments_loan_paid_on", "loan_id", "paid_on"),
        unique_key_per_requester("payments"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id")
    currency: str = Field(max_length=3)
    amount_minor: int = Field(sa_type=sa.BigInteger)
    principal_minor: int = Field(sa_type=sa.BigInteger)
    interest_minor: int = Field(sa_type=sa.BigInteger)
    paid_on: date
    requested_by: int  # whose idempotency key: the user who sent it (see domain.idempotency)
    idempotency_key: str = Field(max_length=100)
    fingerprint: str = Field(max_length=64)
    journal_entry_id: int | None = Field(default=None, foreign_key="journal_entries.id")
    created_at: datetime = Field(sa_column=timestamp_column())

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def principal(self) -> Money:
        return Money.from_minor(self.principal_minor, self.currency)

    @property
    def interest(self) -> Money:
        return Money.from_minor(self.interest_minor, self.currency)


class AllocationKind(enum.StrEnum):
    INSTALLMENT = "INSTALLMENT"  # paid (part of) a scheduled installment
    PREPAYMENT = "PREPAYMENT"  # paid principal ahead of the schedule


class PaymentAllocation(SQLModel, table=True):
    """One part of a payment: the installment (or prepayment) it went to, principal and
    interest. A payment's allocations sum exactly to it."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        sa.CheckConstraint(
            "principal_minor >= 0 AND interest_minor >= 0 AND principal_minor + interest_minor > 0",
            name="positive_parts",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payments.id", index=True)
    kind: AllocationKind = Field(
        sa_type=sa.Enum(AllocationKind, name="allocation_kind", native_enum=False, length=16)
    )
    installment_number: int | None = None
    due_date: date | None = None
    principal_minor: int = Field(sa_type=sa.BigInteger)
    interest_minor: int = Field(sa_type=sa.BigInteger)


class LoanNotFound(DomainError):
    code = "LOAN_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("No such loan, or not one you may see.")


class LoanClosed(DomainError):
    code = "LOAN_CLOSED"

    def __init__(self, loan: Loan) -> None:
        super().__init__(f"Loan {loan.number} is {loan.status.value.lower()}: nothing is owed.")


class LoanNotDisbursed(DomainError):
    code = "LOAN_NOT_DISBURSED"

    def __init__(self, loan: Loan) -> None:
        super().__init__(f"Loan {loan.number} has not been paid out yet; nothing is owed.")


class PaymentsNotAccepted(DomainError):
    code = "PAYMENTS_NOT_ACCEPTED"

    def __init__(self, why: str) -> None:
        super().__init__(why)


class PaymentExceedsOutstanding(DomainError):
    code = "PAYMENT_EXCEEDS_OUTSTANDING"

    def __init__(self, payable: Money) -> None:
        super().__init__(
            f"At most {payable} can be paid on this loan on that date; nothing was paid."
        )
        self.payable = payable


class PaymentMustMatchInstallment(DomainError):
    code = "PAYMENT_MUST_MATCH_INSTALLMENT"

    def __init__(self, expected: Money, number: int) -> None:
        super().__init__(
            f"Pay exactly {expected}, the amount of installment {number}; nothing was paid."
        )
        self.expected = expected


@dataclass(frozen=True)
class Part:
    """Where part of a payment goes: an installment (None for a prepayment) and the split."""

    due: ScheduledDue | None
    principal_minor: int
    interest_minor: int


@dataclass(frozen=True)
class Plan:
    """How a payment is applied, before anything is written."""

    parts: list[Part]
    prepayment_minor: int
    recalculate: list[ScheduledDue]  # installments re-planned after the prepayment


def _unpaid(dues: list[ScheduledDue]) -> list[ScheduledDue]:
    return [d for d in dues if d.remaining > 0]


def _oldest_first(dues: list[ScheduledDue], amount: int) -> tuple[list[Part], int]:
    """Pay `dues` in order, interest before principal; return the parts and what is left."""
    parts = []
    for due in dues:
        if amount == 0:
            break
        interest = min(amount, due.remaining_interest)
        principal = min(amount - interest, due.remaining_principal)
        amount -= interest + principal
        if interest or principal:
            parts.append(Part(due, principal, interest))
    return parts, amount


def period_dues(
    dues: list[ScheduledDue], on: date
) -> tuple[list[ScheduledDue], list[ScheduledDue]]:
    """Unpaid installments due by the end of the period `on` falls in, and the later ones.

    The period ends on the first due date on or after `on`; past the last due date every
    unpaid installment is due.
    """
    ends = next((d.due_date for d in dues if d.due_date >= on), None)
    unpaid = _unpaid(dues)
    now = [d for d in unpaid if ends is None or d.due_date <= ends]
    return now, [d for d in unpaid if d not in now]


@dataclass(frozen=True)
class Rules:
    """The parts of a product that decide how a payment is applied."""

    style: RepaymentStyle
    payment_rule: PaymentRule


def payable(rules: Rules, dues: list[ScheduledDue], on: date) -> int:
    """The most that can be paid on `on`, in minor units: everything owed, except that an
    EMI loan's future interest is not owed once its principal is prepaid."""
    if rules.style is RepaymentStyle.EMI_REDUCING:
        now, later = period_dues(dues, on)
        return sum(d.remaining for d in now) + sum(d.remaining_principal for d in later)
    return sum(d.remaining for d in dues)


def plan(rules: Rules, dues: list[ScheduledDue], amount: Money, on: date) -> Plan:
    """Apply `amount` to `dues` (ordered by number) by the product's rules, or refuse."""
    minor = amount.to_minor()
    unpaid = _unpaid(dues)
    if not unpaid:
        raise PaymentExceedsOutstanding(Money.zero(amount.currency))
    if rules.payment_rule is PaymentRule.EXACT_INSTALLMENT:
        oldest = unpaid[0]
        if minor != oldest.remaining:
            raise PaymentMustMatchInstallment(
                Money.from_minor(oldest.remaining, amount.currency), oldest.number
            )
        return Plan(_oldest_first([oldest], minor)[0], 0, [])
    most = payable(rules, dues, on)
    if minor > most:
        raise PaymentExceedsOutstanding(Money.from_minor(most, amount.currency))
    if rules.style is not RepaymentStyle.EMI_REDUCING:
        return Plan(_oldest_first(unpaid, minor)[0], 0, [])
    now, later = period_dues(dues, on)
    parts, left = _oldest_first(now, minor)
    return Plan(parts, left, later if left else [])


def _recalculate(
    session: Session, loan: Loan, later: list[ScheduledDue], prepaid: int
) -> list[ScheduledDue]:
    """Re-plan the installments after a prepayment: same dates, lower installment (§0, §1).
    Returns the installments that remain (none when the prepayment paid everything off)."""
    left = sum(d.principal_minor for d in later) - prepaid
    if left == 0:  # paid off: the later installments are not owed, and count as paid early
        for due in later:
            session.delete(due)
        loan.emis_paid_on_time += len(later)
        return []
    fresh = reducing_installments(
        Money.from_minor(left, loan.currency),
        loan.interest_rate,
        [d.due_date for d in later],
        later[0].number,
    )
    for due, new in zip(later, fresh, strict=True):
        due.principal_minor, due.interest_minor = new.principal.to_minor(), new.interest.to_minor()
        session.add(due)
    loan.installment_minor = fresh[0].total.to_minor()
    return later


@dataclass(frozen=True)
class PaymentRequest:
    """What the payer asked for. `paid_on` None means today (the business date)."""

    loan_id: int
    amount: Decimal
    paid_on: date | None
    idempotency_key: str

    def fingerprint(self) -> str:
        return fingerprint(self.loan_id, self.amount.normalize(), self.paid_on)


def _check_request(request: PaymentRequest, currency: str) -> Money:
    problems = []
    if not 8 <= len(request.idempotency_key) <= 100:
        problems.append(FieldProblem("idempotencyKey", "8-100 characters"))
    amount = Money(parse_decimal(request.amount), currency)
    if amount.amount.adjusted() >= 16:  # before rounding, which such a number would overflow
        problems.append(FieldProblem("amount", "is too large"))
    elif not amount.is_positive():
        problems.append(FieldProblem("amount", "must be more than zero"))
    elif amount.rounded() != amount:
        problems.append(FieldProblem("amount", f"at most {amount.quantum} precision ({currency})"))
    elif amount.to_minor() > MAX_AMOUNT_MINOR:
        problems.append(FieldProblem("amount", "is too large"))
    if problems:
        raise InvalidInput(problems)
    return amount


def _rules_of(session: Session, loan: Loan) -> tuple[Rules, LoanProduct]:
    if loan.status in (LoanStatus.PAID, LoanStatus.REJECTED, LoanStatus.FAILED):
        raise LoanClosed(loan)
    if loan.status in (LoanStatus.PENDING, LoanStatus.APPROVED):
        raise LoanNotDisbursed(loan)
    product = session.get(LoanProduct, loan.product_id) if loan.product_id else None
    if product is None:
        raise PaymentsNotAccepted(
            f"Loan {loan.number} was imported; it is repaid in the system it came from."
        )
    return Rules(product.repayment_style, product.payment_rule), product


def _check_date(session: Session, loan: Loan, paid_on: date, today: date) -> None:
    latest = session.exec(select(func.max(Payment.paid_on)).where(Payment.loan_id == loan.id)).one()
    if paid_on > today:
        problem = f"cannot be after today ({today.isoformat()})"
    elif paid_on < loan.start_date:
        problem = f"cannot be before the loan started ({loan.start_date.isoformat()})"
    elif latest is not None and paid_on < latest:
        problem = f"cannot be before the latest payment ({latest.isoformat()})"
    else:
        return
    raise InvalidInput([FieldProblem("paidOn", problem)])


def _ledger_legs(session: Session, loan: Loan, product: LoanProduct, payment: Payment) -> list[Leg]:
    if product.funding_source is FundingSource.PROVIDERS:
        legs, _ = repayment_legs(session, loan, payment.id or 0, payment.amount, payment.principal)
        return legs
    return _bank_legs(session, loan, payment, interest_income_account(loan.currency))


def _bank_legs(
    session: Session, loan: Loan, payment: Payment, interest_to: AccountSpec
) -> list[Leg]:
    """Bank money in; the loan's principal down, and its interest part to `interest_to`
    (income when earned on payment; a card's billed-interest receivable)."""
    receivable, funds = principal_account(loan), bank_funds_account(loan.currency)
    accounts = open_accounts(session, [receivable, funds, interest_to])
    legs = [debit(accounts[funds.code], payment.amount)]
    if payment.principal_minor:
        legs.append(credit(accounts[receivable.code], payment.principal))
    if payment.interest_minor:
        legs.append(credit(accounts[interest_to.code], payment.interest))
    return legs


def _apply(
    session: Session, loan: Loan, plan_: Plan, dues: list[ScheduledDue], paid_on: date
) -> tuple[list[PaymentAllocation], list[ScheduledDue]]:
    """Mark the installments paid, re-plan after a prepayment: the allocation rows and the
    schedule as it now stands."""
    allocations = []
    for part in plan_.parts:
        due = part.due
        assert due is not None
        due.paid_principal_minor += part.principal_minor
        due.paid_interest_minor += part.interest_minor
        if due.remaining == 0:
            due.paid_on = paid_on
            if paid_on <= due.due_date and loan.term_unit == "MONTH":
                loan.emis_paid_on_time += 1  # the loan-history score counts monthly EMIs
        session.add(due)
        allocations.append(
            PaymentAllocation(
                payment_id=0,
                kind=AllocationKind.INSTALLMENT,
                installment_number=due.number,
                due_date=due.due_date,
                principal_minor=part.principal_minor,
                interest_minor=part.interest_minor,
            )
        )
    if plan_.prepayment_minor:
        kept = _recalculate(session, loan, plan_.recalculate, plan_.prepayment_minor)
        gone = {id(d) for d in plan_.recalculate} - {id(d) for d in kept}
        dues = [d for d in dues if id(d) not in gone]
        allocations.append(
            PaymentAllocation(
                payment_id=0,
                kind=AllocationKind.PREPAYMENT,
                principal_minor=plan_.prepayment_minor,
                interest_minor=0,
            )
        )
    return allocations, dues


def make_payment(
    session: Session, request: PaymentRequest, *, requested_by: int, today: date, now: datetime
) -> Payment:
    """Apply a payment to a loan exactly once: the same key and request from the same
    requester (the user who sent it) return the first payment; the same key for another
    request of theirs is refused; a refusal changes nothing."""
    # The lock every payment on this loan queues on, reading the loan as it is now.
    loan = session.exec(
        select(Loan)
        .where(Loan.id == request.loan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if loan is None:
        raise LoanNotFound()
    amount = _check_request(request, loan.currency)
    print_ = request.fingerprint()
    earlier = earlier_result(
        session, Payment, requested_by=requested_by, key=request.idempotency_key, print_=print_
    )
    if earlier is not None:
        return earlier
    rules, product = _rules_of(session, loan)
    paid_on = request.paid_on or today
    _check_date(session, loan, paid_on, today)
    if rules.style is RepaymentStyle.REVOLVING:
        return _pay_card(
            session, loan, request, amount, requested_by=requested_by, paid_on=paid_on, now=now
        )
    dues = schedules_of(session, [request.loan_id])[request.loan_id]
    plan_ = plan(rules, dues, amount, paid_on)
    principal = sum(p.principal_minor for p in plan_.parts) + plan_.prepayment_minor
    interest = sum(p.interest_minor for p in plan_.parts)
    payment = _new_payment(
        loan,
        request,
        amount,
        (principal, interest),
        requested_by=requested_by,
        paid_on=paid_on,
        now=now,
    )
    if (held := claim_key(session, payment)) is not payment:  # the same request, just before
        return held
    allocations, left = _apply(session, loan, plan_, dues, paid_on)
    owed = still_owed(left, loan.currency)
    if not owed.total.is_positive():
        loan.status, loan.delinquent = LoanStatus.PAID, False
    elif loan.delinquent:  # a payment that clears the arrears clears the flag (§5)
        refresh(session, loan, product, left, day=today, now=now)
    legs = _ledger_legs(session, loan, product, payment)
    return _book(session, loan, payment, allocations=allocations, legs=legs, owed=owed.total)


def _new_payment(
    loan: Loan,
    request: PaymentRequest,
    amount: Money,
    split: tuple[int, int],
    *,
    requested_by: int,
    paid_on: date,
    now: datetime,
) -> Payment:
    """The payment row: `split` is its (principal, interest) in minor units."""
    return Payment(
        loan_id=loan.id or 0,
        currency=loan.currency,
        amount_minor=amount.to_minor(),
        principal_minor=split[0],
        interest_minor=split[1],
        paid_on=paid_on,
        requested_by=requested_by,
        idempotency_key=request.idempotency_key,
        fingerprint=request.fingerprint(),
        created_at=now,
    )


def _book(
    session: Session,
    loan: Loan,
    payment: Payment,
    *,
    allocations: list[PaymentAllocation],
    legs: list[Leg],
    owed: Money,
) -> Payment:
    """Write the allocations, raise the events and post the journal entry, last, so the
    bank's and the pool's busy accounts stay locked for as short as can be."""
    for allocation in allocations:
        allocation.payment_id = payment.id or 0
    session.add_all(allocations)
    _announce(session, loan, payment, allocations=allocations, owed=owed)
    entry = post(
        session,
        "REPAYMENT",
        f"Loan {loan.number} repayment",
        payment.paid_on,
        legs,
        reference=f"loan:{loan.number}",
    )
    payment.journal_entry_id = entry.id
    session.add_all([loan, payment])
    return payment


def _paid_so_far(session: Session, loan: Loan) -> tuple[int, int]:
    principal, interest = session.exec(
        select(
            func.coalesce(func.sum(Payment.principal_minor), 0),
            func.coalesce(func.sum(Payment.interest_minor), 0),
        ).where(Payment.loan_id == loan.id)
    ).one()
    return int(principal), int(interest)


def _pay_card(
    session: Session,
    loan: Loan,
    request: PaymentRequest,
    amount: Money,
    *,
    requested_by: int,
    paid_on: date,
    now: datetime,
) -> Payment:
    """§4: one payment a day; past dues, then the minimum due, then principal."""
    same_day = select(Payment.id).where(Payment.loan_id == loan.id, Payment.paid_on == paid_on)
    if session.exec(same_day).first() is not None:
        raise InvalidInput(
            [FieldProblem("paidOn", "a credit-card loan takes one payment a day; one was made")]
        )
    bill_cycles_ended(session, loan, paid_on, now)  # a late close must not change the split
    owed = card_owed(session, loan, *_paid_so_far(session, loan), as_of=paid_on)
    if amount.to_minor() > owed.payable_minor:
        raise PaymentExceedsOutstanding(Money.from_minor(owed.payable_minor, loan.currency))
    card = plan_card_payment(session, loan, owed, amount.to_minor())
    split = (card.principal_minor, card.interest_minor)
    payment = _new_payment(
        loan, request, amount, split, requested_by=requested_by, paid_on=paid_on, now=now
    )
    if (held := claim_key(session, payment)) is not payment:  # the same request, just before
        return held
    apply_card_plan(session, card)
    after = replace(
        owed,
        principal_minor=owed.principal_minor - card.principal_minor,
        billed_interest_minor=owed.billed_interest_minor - card.interest_minor,
    )
    if after.settled:
        loan.status = LoanStatus.PAID
    legs = _bank_legs(session, loan, payment, interest_receivable_account(loan))
    owing = Money.from_minor(after.payable_minor, loan.currency)
    return _book(session, loan, payment, allocations=_card_allocations(card), legs=legs, owed=owing)


def _card_allocations(card: CardPlan) -> list[PaymentAllocation]:
    """The part against the latest bill (interest first), and what went beyond it."""
    on_bill_interest = min(card.to_bill_minor, card.interest_minor)
    on_bill_principal = card.to_bill_minor - on_bill_interest
    parts = [
        (AllocationKind.INSTALLMENT, on_bill_principal, on_bill_interest),
        (
            AllocationKind.PREPAYMENT,
            card.principal_minor - on_bill_principal,
            card.interest_minor - on_bill_interest,
        ),
    ]
    bill = card.bill
    return [
        PaymentAllocation(
            payment_id=0,
            kind=kind,
            installment_number=bill.number if bill and kind is AllocationKind.INSTALLMENT else None,
            due_date=bill.due_date if bill and kind is AllocationKind.INSTALLMENT else None,
            principal_minor=principal,
            interest_minor=interest,
        )
        for kind, principal, interest in parts
        if principal or interest
    ]


def _announce(
    session: Session,
    loan: Loan,
    payment: Payment,
    *,
    allocations: list[PaymentAllocation],
    owed: Money,
) -> None:
    """The events of a payment, through the outbox: paymentReceived, and loanUpdated when
    the payment closed the loan."""
    session.flush()  # the payment's id
    announce(
        session,
        loan,
        PAYMENT_RECEIVED,
        at=payment.created_at,
        outstanding=owed,
        paymentId=payment.id,
        amount=str(payment.amount.amount),
        principal=str(payment.principal.amount),
        interest=str(payment.interest.amount),
        paidOn=payment.paid_on.isoformat(),
        allocations=[
            {
                "kind": a.kind.value,
                "installmentNumber": a.installment_number,
                "dueDate": a.due_date.isoformat() if a.due_date else None,
                "principal": str(Money.from_minor(a.principal_minor, loan.currency).amount),
                "interest": str(Money.from_minor(a.interest_minor, loan.currency).amount),
            }
            for a in allocations
        ],
    )
    customer = session.get(Customer, loan.customer_id)
    closed = loan.status is LoanStatus.PAID
    notify(
        session,
        user_id=customer.user_id if customer is not None else None,
        kind=NotificationKind.PAYMENT_RECEIVED,
        about=f"payment:{payment.id}",
        title="Loan paid off" if closed else "Payment received",
        body=f"We received {payment.amount} for loan {loan.number} on "
        f"{payment.paid_on.isoformat()}; "
        + ("nothing more is owed." if closed else f"{owed} is still owed."),
        loan_id=loan.id,
        now=payment.created_at,
    )
    if loan.status is LoanStatus.PAID:
        announce(
            session,
            loan,
            LOAN_UPDATED,
            at=payment.created_at,
            outstanding=owed,
        )


def payments_of(session: Session, loan_ids: list[int]) -> dict[int, list[Payment]]:
    """Every payment of each loan, oldest first, in one query."""
    grouped: dict[int, list[Payment]] = {i: [] for i in loan_ids}
    if loan_ids:
        for payment in session.exec(
            select(Payment)
            .where(col(Payment.loan_id).in_(loan_ids))
            .order_by(col(Payment.loan_id), col(Payment.id))
        ).all():
            grouped[payment.loan_id].append(payment)
    return grouped


def allocations_of(session: Session, payment_ids: list[int]) -> dict[int, list[PaymentAllocation]]:
    """Every allocation of each payment, in one query."""
    grouped: dict[int, list[PaymentAllocation]] = defaultdict(list)
    if payment_ids:
        for row in session.exec(
            select(PaymentAllocation)
            .where(col(PaymentAllocation.payment_id).in_(payment_ids))
            .order_by(col(PaymentAllocation.id))
        ).all():
            grouped[row.payment_id].append(row)
    return {i: grouped.get(i, []) for i in payment_ids}


@dataclass(frozen=True)
class StatementLine:
    """A payment on a statement: when, and how it split."""

    on: date
    principal: Money
    interest: Money
    paid: Money


@dataclass(frozen=True)
class UpcomingDue:
    number: int
    on: date
    amount: Money


@dataclass(frozen=True)
class Statement:
    transactions: list[StatementLine]
    upcoming: list[UpcomingDue]


def statement(
    loan: Loan,
    dues: list[ScheduledDue],
    payments: list[Payment],
    since: date | None,
    until: date | None,
) -> Statement:
    """Past payments and the dues still to pay, each within [since, until] when given."""
    if loan.status in (LoanStatus.PAID, LoanStatus.REJECTED, LoanStatus.FAILED):
        raise LoanClosed(loan)

    def within(day: date) -> bool:
        return (since is None or day >= since) and (until is None or day <= until)

    return Statement(
        transactions=[
            StatementLine(p.paid_on, p.principal, p.interest, p.amount)
            for p in sorted(payments, key=lambda p: (p.paid_on, p.id or 0))
            if within(p.paid_on)
        ],
        upcoming=[
            UpcomingDue(d.number, d.due_date, Money.from_minor(d.remaining, loan.currency))
            for d in _unpaid(dues)
            if within(d.due_date)
        ],
    )


def amount_due(dues: list[ScheduledDue], on: date, currency: str) -> Money:
    """What to pay by the end of the period `on` falls in: every unpaid due up to it."""
    now, _ = period_dues(dues, on)
    return Money.from_minor(sum(d.remaining for d in now), currency)
