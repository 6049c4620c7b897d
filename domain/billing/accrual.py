"""Daily interest accrual of credit-card loans (RULES.md §4): from the day after disbursement
through the final billing date, principal balance × round(APR / 365, 3) % for each day. The
balance is the day's own (repayments made up to and on it), so catching up days later, or
closing a chunk again, gives the same amounts.

Amounts are kept in nano-units of the currency's minor unit (10⁻⁹), so a day's interest is
exact; a bill rounds the sum of its cycle once. One row per (loan, day): accruing a day twice,
or re-running a chunk after a crash, inserts nothing new.
"""

from __future__ import annotations

from datetime import date, timedelta

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
_ACCRUE = sa.text(
    """
    INSERT INTO interest_accruals
        (loan_id, accrued_on, principal_minor, daily_rate_milli, amount_nano, run_id)
    SELECT b.id, :day, b.balance, b.milli, b.balance * b.milli * 10000, :run
    FROM (
        SELECT l.id AS id,
               (l.interest_rate * 2 + 3650) / 7300 AS milli,
               l.principal_minor - COALESCE(
                   (SELECT SUM(pm.principal_minor) FROM payments pm
                    WHERE pm.loan_id = l.id AND pm.paid_on <= :day), 0) AS balance
        FROM loans l JOIN loan_products p ON p.id = l.product_id
        WHERE p.repayment_style = 'REVOLVING' AND l.status IN ('ACTIVE', 'PAID')
          AND l.id BETWEEN :first AND :last
          AND l.start_date < :day AND l.end_date >= :last_billing
    ) AS b
    WHERE b.balance > 0
    ON CONFLICT (loan_id, accrued_on) DO NOTHING
    """
).bindparams(sa.bindparam("day", type_=sa.Date), sa.bindparam("last_billing", type_=sa.Date))


def accrue_card_interest(
    session: Session, day: date, first_loan_id: int, last_loan_id: int, run_id: int | None
) -> int:
    """One set-based statement for the card loans with ids in the range; rows inserted."""
    result = session.connection().execute(
        _ACCRUE,
        {
            "day": day,
            "last_billing": day + GRACE,
            "first": first_loan_id,
            "last": last_loan_id,
            "run": run_id,
        },
    )
    return int(result.rowcount or 0)
