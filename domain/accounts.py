"""The ledger accounts of loans and of the bank, by one naming rule (RULES.md §6).

`loan:{number}:principal` is what the borrower still owes of the principal (an asset that
never goes negative); `loan:{number}:interest` is card interest billed and not yet paid;
`bank:funds:{currency}` is the bank's lending money (an asset: it goes down as the bank
lends and up as it is repaid); `income:interest:{currency}` is interest the bank has earned
on the loans it funds. Provider accounts live in `domain.providers`.
"""

from __future__ import annotations

from domain.ledger import AccountKind, AccountSpec
from domain.loans import Loan


def principal_account(loan: Loan) -> AccountSpec:
    return AccountSpec(
        f"loan:{loan.number}:principal",
        f"Loan {loan.number} principal",
        AccountKind.ASSET,
        loan.currency,
        non_negative=True,
    )


def bank_funds_account(currency: str) -> AccountSpec:
    return AccountSpec(
        f"bank:funds:{currency}", f"Bank lending funds ({currency})", AccountKind.ASSET, currency
    )


def interest_income_account(currency: str) -> AccountSpec:
    return AccountSpec(
        f"income:interest:{currency}",
        f"Interest earned ({currency})",
        AccountKind.INCOME,
        currency,
        non_negative=True,
    )


def interest_receivable_account(loan: Loan) -> AccountSpec:
    return AccountSpec(
        f"loan:{loan.number}:interest",
        f"Loan {loan.number} interest billed",
        AccountKind.ASSET,
        loan.currency,
        non_negative=True,
    )
