"""Every module that defines tables, imported so SQLModel.metadata is complete."""

from domain import (
    credit_assessment,
    customers,
    funding,
    importing_runs,
    ledger,
    loans,
    notifications,
    origination,
    outbox,
    payments,
    products,
    providers,
    savings,
    sign_in,
    users,
)
from domain.billing import accrual as billing_accrual
from domain.billing import bills as billing_bills
from domain.billing import calendar as billing_calendar
from domain.billing import runs as billing_runs
from domain.scoring import progress as scoring_progress
from domain.scoring import registration as scoring_registration

TABLE_MODULES = (
    users,
    sign_in,
    outbox,
    customers,
    loans,
    savings,
    credit_assessment,
    importing_runs,
    ledger,
    products,
    origination,
    notifications,
    payments,
    providers,
    funding,
    scoring_progress,
    scoring_registration,
    billing_calendar,
    billing_runs,
    billing_accrual,
    billing_bills,
)
