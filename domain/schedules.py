"""Repayment schedules: what is due when, split into principal and interest.

Pure calculation (RULES.md §1, §2, §4, §5). Figures are fixed half-up to the minor unit per
installment; intermediate values keep full precision; the last installment absorbs every
rounding remainder, so principal parts always sum exactly to the principal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from domain.money import Money


@dataclass(frozen=True)
class Installment:
    """One due: its date and its principal and interest parts."""

    number: int
    due_date: date
    principal: Money
    interest: Money

    @property
    def total(self) -> Money:
        return self.principal + self.interest


def add_months(start: date, months: int) -> date:
    """Same day of month `months` later, or that month's last day when it is shorter."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def monthly_dues_reached(start: date, months: int, as_of: date) -> int:
    """How many of `months` monthly dues (the k-th on add_months(start, k)) have arrived by
    `as_of`, counted by day: a due later in as_of's month has not arrived yet."""
    elapsed = (as_of.year - start.year) * 12 + as_of.month - start.month
    if elapsed > 0 and add_months(start, elapsed) > as_of:
        elapsed -= 1
    return max(0, min(months, elapsed))


def monthly_rate(annual_percent: Decimal) -> Decimal:
    return annual_percent / 1200


def emi(principal: Money, annual_percent: Decimal, months: int) -> Money:
    """EMI = P·r·(1+r)^n / ((1+r)^n − 1), r = annual % / 1200 (RULES.md §1)."""
    if months <= 0:
        raise ValueError("the tenure must be at least one month")
    r = monthly_rate(annual_percent)
    if r == 0:
        return Money(principal.amount / months, principal.currency).rounded()
    growth = (1 + r) ** months
    return Money(principal.amount * r * growth / (growth - 1), principal.currency).rounded()


def emi_schedule(
    principal: Money, annual_percent: Decimal, months: int, start: date
) -> list[Installment]:
    """Reducing balance, monthly: each EMI pays the month's interest, the rest principal."""
    dates = [add_months(start, number) for number in range(1, months + 1)]
    return reducing_installments(principal, annual_percent, dates)


def reducing_installments(
    principal: Money, annual_percent: Decimal, due_dates: list[date], first_number: int = 1
) -> list[Installment]:
    """Equal monthly installments on these dates for `principal` (§1). Used for a new loan,
    and after a prepayment to recalculate what is left: same dates, lower installment."""
    payment = emi(principal, annual_percent, len(due_dates))
    r = monthly_rate(annual_percent)
    balance = principal.rounded()
    rows = []
    for offset, due_date in enumerate(due_dates):
        interest = (balance * r).rounded()
        last = offset == len(due_dates) - 1
        principal_part = balance if last else min(payment - interest, balance)
        rows.append(Installment(first_number + offset, due_date, principal_part, interest))
        balance = balance - principal_part
    return rows


def _split_evenly(amount: Money, parts: int) -> list[Money]:
    """`parts` equal amounts rounded half-up, the last taking the remainder (§5)."""
    each = Money(amount.amount / parts, amount.currency).rounded()
    return [each] * (parts - 1) + [amount - each * (parts - 1)]


def _split_cumulatively(amount: Money, parts: int) -> list[Money]:
    """Parts that never go negative and sum exactly: each is the rounded running share
    minus the one before it."""
    shares = [Money(amount.amount * k / parts, amount.currency).rounded() for k in range(parts + 1)]
    return [later - earlier for earlier, later in pairwise(shares)]


def flat_schedule(
    principal: Money,
    flat_percent: Decimal,
    periods: int,
    start: date,
    period: timedelta = timedelta(weeks=1),
) -> list[Installment]:
    """Flat interest charged once on the principal, paid in equal installments (§5)."""
    if periods <= 0:
        raise ValueError("there must be at least one installment")
    total = (principal * (1 + flat_percent / 100)).rounded()
    totals = _split_evenly(total, periods)
    # Interest spread so no part is negative; principal is what is left of each total.
    interests = _split_cumulatively(total - principal.rounded(), periods)
    return [
        Installment(n + 1, start + period * (n + 1), t - i, i)
        for n, (t, i) in enumerate(zip(totals, interests, strict=True))
    ]


def single_payment_schedule(
    principal: Money, flat_percent: Decimal, days: int, start: date
) -> list[Installment]:
    """Everything due once, `days` after the start: amount × (1 + rate) (§2)."""
    interest = (principal * (flat_percent / 100)).rounded()
    return [Installment(1, start + timedelta(days=days), principal.rounded(), interest)]


CYCLE = timedelta(days=30)
GRACE = timedelta(days=15)
MINIMUM_PRINCIPAL_SHARE = Decimal("0.03")


def daily_rate(apr_percent: Decimal) -> Decimal:
    """round(APR / 365, 3), in percent per day (RULES.md §4)."""
    return (apr_percent / 365).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def revolving_projection(
    principal: Money, apr_percent: Decimal, cycles: int, disbursed_on: date
) -> list[Installment]:
    """Credit-card bills, assuming each minimum due is paid on its due date (§4).

    A bill falls every 30 days from disbursement and is due 15 days later; interest accrues
    daily from the day after disbursement on the principal balance; the minimum due is 3 %
    of the principal plus the cycle's interest; the last cycle bills everything.
    """
    if cycles <= 0:
        raise ValueError("there must be at least one billing cycle")
    rate = daily_rate(apr_percent) / 100
    balance = principal.rounded()
    billed_on = disbursed_on
    repayment: tuple[date, Money] | None = None  # (paid on, principal part) of the last bill
    bills = []
    for number in range(1, cycles + 1):
        interest = Money.zero(principal.currency)
        for offset in range(1, CYCLE.days + 1):
            day = billed_on + timedelta(days=offset)
            if repayment is not None and day > repayment[0]:
                balance, repayment = balance - repayment[1], None
            interest = interest + balance * rate
        billed_on = billed_on + CYCLE
        outstanding = balance - (repayment[1] if repayment else Money.zero(balance.currency))
        last = number == cycles
        part = outstanding if last else (outstanding * MINIMUM_PRINCIPAL_SHARE).rounded()
        # §4: min due = principal × 3 % + the cycle's interest, rounded once; the interest
        # part is what the rounded due leaves after the (rounded) principal part.
        due = outstanding + interest if last else outstanding * MINIMUM_PRINCIPAL_SHARE + interest
        bills.append(Installment(number, billed_on + GRACE, part, due.rounded() - part))
        if repayment is not None:
            balance = outstanding
        repayment = (billed_on + GRACE, part)
    return bills
