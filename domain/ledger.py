"""The ledger: every money movement as a balanced double-entry journal entry (RULES.md §6).

A line's amount is signed (debit positive, credit negative) in minor units; an entry's lines
sum to zero per currency. Each account keeps its balance on its normal side (debits for
assets, credits for liabilities, equity and income); accounts that must never go negative
say so and a CHECK constraint holds them to it. The database itself refuses an unbalanced
entry and any change to posted lines (triggers in the migration), so a bug cannot book
half a movement. `verify_ledger` re-adds every line and compares.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select, update

from domain.errors import DomainError
from domain.money import Money
from domain.tables import timestamp_column, utcnow
from domain.upsert import insert_ignoring_conflicts


class AccountKind(enum.StrEnum):
    ASSET = "ASSET"
    LIABILITY = "LIABILITY"
    EQUITY = "EQUITY"
    INCOME = "INCOME"
    EXPENSE = "EXPENSE"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountKind.ASSET, AccountKind.EXPENSE)


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        sa.CheckConstraint("NOT non_negative OR balance_minor >= 0", name="balance_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=120, sa_column_kwargs={"unique": True, "nullable": False})
    name: str = Field(max_length=200)
    kind: AccountKind = Field(
        sa_type=sa.Enum(AccountKind, name="account_kind", native_enum=False, length=16)
    )
    currency: str = Field(max_length=3)
    non_negative: bool = False
    balance_minor: int = Field(default=0, sa_type=sa.BigInteger)

    @property
    def balance(self) -> Money:
        return Money.from_minor(self.balance_minor, self.currency)


class JournalEntry(SQLModel, table=True):
    __tablename__ = "journal_entries"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    description: str = Field(max_length=300)
    reference: str | None = Field(default=None, max_length=120, index=True)
    occurred_on: date
    posted: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class JournalLine(SQLModel, table=True):
    __tablename__ = "journal_lines"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entries.id", index=True)
    account_id: int = Field(foreign_key="ledger_accounts.id", index=True)
    amount_minor: int = Field(sa_type=sa.BigInteger)  # debit +, credit -
    currency: str = Field(max_length=3)


class UnbalancedEntry(DomainError):
    code = "UNBALANCED_ENTRY"

    def __init__(self, detail: str) -> None:
        super().__init__(f"A journal entry must balance in every currency: {detail}")


class InsufficientBalance(DomainError):
    code = "INSUFFICIENT_BALANCE"

    def __init__(self) -> None:
        super().__init__("That would take an account below zero.")


@dataclass(frozen=True)
class AccountSpec:
    """An account to find or open: a stable code, what it is, and its currency."""

    code: str
    name: str
    kind: AccountKind
    currency: str
    non_negative: bool = False


def open_accounts(session: Session, specs: list[AccountSpec]) -> dict[str, LedgerAccount]:
    """The accounts with these codes, opened first where missing (safe under concurrency)."""
    codes = [s.code for s in specs]
    found = {row.code: row for row in session.exec(_accounts_with(codes)).all()}
    missing = [s for s in specs if s.code not in found]
    if not missing:  # the usual case: one read, no write
        return found
    insert_ignoring_conflicts(
        session,
        LedgerAccount,
        [
            {
                "code": s.code,
                "name": s.name,
                "kind": s.kind,
                "currency": s.currency,
                "non_negative": s.non_negative,
                "balance_minor": 0,
            }
            for s in missing
        ],
    )
    return {row.code: row for row in session.exec(_accounts_with(codes)).all()}


def _accounts_with(codes: list[str]) -> Any:
    return select(LedgerAccount).where(col(LedgerAccount.code).in_(codes))


@dataclass(frozen=True)
class Leg:
    """One side of a posting: `amount` debits the account when positive, credits when not."""

    account: LedgerAccount
    amount: Money


def debit(account: LedgerAccount, amount: Money) -> Leg:
    return Leg(account, amount)


def credit(account: LedgerAccount, amount: Money) -> Leg:
    return Leg(account, -amount)


def _check_balanced(legs: list[Leg]) -> None:
    sums: dict[str, int] = defaultdict(int)
    for leg in legs:
        if leg.amount.currency != leg.account.currency:
            raise UnbalancedEntry(f"{leg.amount} posted to a {leg.account.currency} account")
        sums[leg.amount.currency] += leg.amount.to_minor()
    off = {currency: total for currency, total in sums.items() if total != 0}
    if not legs or off:
        raise UnbalancedEntry(", ".join(f"{c} off by {t}" for c, t in off.items()) or "empty")


def post(
    session: Session,
    kind: str,
    description: str,
    occurred_on: date,
    legs: list[Leg],
    *,
    reference: str | None = None,
) -> JournalEntry:
    """Book a balanced entry and move the accounts' balances, all in the caller's transaction."""
    _check_balanced(legs)
    entry = JournalEntry(
        kind=kind, description=description, reference=reference, occurred_on=occurred_on
    )
    session.add(entry)
    session.flush()
    assert entry.id is not None
    session.add_all(
        [
            JournalLine(
                entry_id=entry.id,
                account_id=leg.account.id or 0,
                amount_minor=leg.amount.to_minor(),
                currency=leg.amount.currency,
            )
            for leg in legs
        ]
    )
    try:
        with session.begin_nested():
            for leg in sorted(legs, key=lambda leg: leg.account.id or 0):  # fixed lock order
                sign = 1 if leg.account.kind.debit_normal else -1
                session.exec(
                    update(LedgerAccount)
                    .where(col(LedgerAccount.id) == leg.account.id)
                    .values(
                        balance_minor=LedgerAccount.balance_minor + sign * leg.amount.to_minor()
                    )
                )
            entry.posted = True
            session.flush()
    except IntegrityError as error:
        if "balance_not_negative" in str(error.orig):
            raise InsufficientBalance() from None
        raise
    for leg in legs:  # balances moved in SQL: read again when next asked for
        session.expire(leg.account, ["balance_minor"])
    return entry


@dataclass(frozen=True)
class LedgerProblem:
    what: str


def verify_ledger(session: Session) -> list[LedgerProblem]:
    """Re-add every line: entries balance per currency, cached balances match their lines."""
    problems = [
        LedgerProblem(f"entry {entry_id} is off by {total} in {currency}")
        for entry_id, currency, total in session.exec(
            select(
                JournalLine.entry_id, JournalLine.currency, sa.func.sum(JournalLine.amount_minor)
            )
            .group_by(col(JournalLine.entry_id), col(JournalLine.currency))
            .having(sa.func.sum(JournalLine.amount_minor) != 0)
        ).all()
    ]
    problems += [
        LedgerProblem(f"entry {entry_id} was never posted")
        for entry_id in session.exec(
            select(JournalEntry.id).where(col(JournalEntry.posted).is_(False))
        ).all()
    ]
    sums = dict(
        session.exec(
            select(JournalLine.account_id, sa.func.sum(JournalLine.amount_minor)).group_by(
                col(JournalLine.account_id)
            )
        ).all()
    )
    for account in session.exec(select(LedgerAccount)).all():
        raw = int(sums.get(account.id or 0, 0))
        expected = raw if account.kind.debit_normal else -raw
        if expected != account.balance_minor:
            problems.append(
                LedgerProblem(
                    f"account {account.code} shows {account.balance_minor} but its lines make "
                    f"{expected}"
                )
            )
    return problems
