"""Daily interest accrual of credit-card loans (RULES.md §4): from the day after disbursement
through the final billing date, principal balance × round(APR / 365, 3) % for each day. The
balance is the day's own (repayments made up to and on it), so catching up days later, or
closing a chunk again, gives the same amounts.

A day is accrued by its own close, and again, if it is still missing, by the bill of its
cycle: a loan disbursed (or a day left unclosed) before the first close the bank ever ran
still has every day of its cycle billed, whatever order the days were closed in.

Amounts are kept in nano-units of the currency's minor unit (10⁻⁹), so a day's interest is
exact; a bill rounds the sum of its cycle once. One row per (loan, day): accruing a day twice,
or re-running a chunk after a crash, inserts nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

NANO_PER_MINOR = 10**9
GRACE = timedelta(days=15)  # due date = billing date + 15 days: end_date is the last due date


class InterestAccrual(SQLModel, table=True):
    __tablename__ = "interest_accruals"

    loan_id: int = Field(foreign_key="loans.id", primary_key=True)
    accrued_on: date = Field(primary_key=True)
    principal_minor: int = Field(sa_type=sa.BigInteger)  # the balance it accrued on
    daily_rate_milli: int  # thousandths of a percent: round(APR / 365, 3)
    amount_nano: int = Field(sa_type=sa.BigInteger)
    run_id: int | None = Field(default=None, foreign_key="billing_runs.id", index=True)


# APR is stored ×10⁴ (PercentRate): round(APR/365, 3) in thousandths of a percent is
# round_half_up(rate / 3650) = (rate × 2 + 3650) div 7300 in integers, exact on both databases.
# A day's interest in nano-minor units: balance × milli / 10⁵ × 10⁹ = balance × milli × 10⁴.
# The days come in as a small derived table of (day, last billing date it may accrue for):
# portable to SQLite and PostgreSQL, one statement whatever the number of days.
_ACCRUALS = """
    SELECT b.id AS loan_id, b.day AS accrued_on, b.balance AS principal_minor,
           b.milli AS daily_rate_milli, b.balance * b.milli * 10000 AS amount_nano
    FROM (
        SELECT l.id AS id, d.day AS day,
               (l.interest_rate * 2 + 3650) / 7300 AS milli,
               l.principal_minor - COALESCE(
                   (SELECT SUM(pm.principal_minor) FROM payments pm
                    WHERE pm.loan_id = l.id AND pm.paid_on <= d.day), 0) AS balance
        FROM loans l JOIN loan_products p ON p.id = l.product_id
        CROSS JOIN ({days}) AS d
        WHERE p.repayment_style = 'REVOLVING' AND l.status IN ('ACTIVE', 'PAID')
          AND l.id BETWEEN :first AND :last {only}
          AND l.start_date < d.day AND l.end_date >= d.last_billing
    ) AS b
    WHERE b.balance > 0
"""


def _statement(
    template: str, days: Sequence[date], loan_ids: Sequence[int] | None
) -> tuple[sa.TextClause, dict[str, Any]]:
    union = " UNION ALL ".join(
        f"SELECT :day_{n} AS day, :billing_{n} AS last_billing" for n in range(len(days))
    )
    only = "AND l.id IN :ids" if loan_ids is not None else ""
    text = sa.text(template.format(accruals=_ACCRUALS.format(days=union, only=only)))
    binds = [sa.bindparam(f"day_{n}", type_=sa.Date) for n in range(len(days))]
    binds += [sa.bindparam(f"billing_{n}", type_=sa.Date) for n in range(len(days))]
    if loan_ids is not None:
        binds.append(sa.bindparam("ids", expanding=True))
    params: dict[str, Any] = {f"day_{n}": day for n, day in enumerate(days)}
    params |= {f"billing_{n}": day + GRACE for n, day in enumerate(days)}
    if loan_ids is not None:
        params["ids"] = list(loan_ids)
    return text.bindparams(*binds), params


_INSERT = """
    INSERT INTO interest_accruals
        (loan_id, accrued_on, principal_minor, daily_rate_milli, amount_nano, run_id)
    SELECT a.loan_id, a.accrued_on, a.principal_minor, a.daily_rate_milli, a.amount_nano, :run
    FROM ({accruals}) AS a
    WHERE 1 = 1
    ON CONFLICT (loan_id, accrued_on) DO NOTHING
"""

_NOT_YET_ACCRUED = """
    SELECT COALESCE(SUM(a.amount_nano), 0)
    FROM ({accruals}) AS a
    WHERE NOT EXISTS (SELECT 1 FROM interest_accruals i
                      WHERE i.loan_id = a.loan_id AND i.accrued_on = a.accrued_on)
"""


def accrue_card_interest(
    session: Session,
    days: Sequence[date],
    first_loan_id: int,
    last_loan_id: int,
    run_id: int | None,
    *,
    loan_ids: Sequence[int] | None = None,
) -> int:
    """Accrue the card loans with ids in the range (and among `loan_ids`, if given) for each
    of `days` not accrued yet, in one set-based statement; rows inserted."""
    if not days or (loan_ids is not None and not loan_ids):
        return 0
    statement, params = _statement(_INSERT, days, loan_ids)
    params |= {"first": first_loan_id, "last": last_loan_id, "run": run_id}
    return int(session.connection().execute(statement, params).rowcount or 0)


def not_yet_accrued_nano(session: Session, loan_id: int, days: Sequence[date]) -> int:
    """What `days` would accrue on the loan beyond the rows already kept (days whose close has
    not run yet), read without writing: a payment settling a card needs it."""
    if not days:
        return 0
    statement, params = _statement(_NOT_YET_ACCRUED, days, None)
    params |= {"first": loan_id, "last": loan_id}
    return int(session.connection().execute(statement, params).scalar_one())
