"""Loan providers: people who put money in the pool to be lent (RULES.md §2, §6).

A provider's balances are ledger accounts: available funds (what may still be lent) and a
wallet (repayments shared back), both liabilities of the platform that never go negative.
Adding and withdrawing are idempotent by the requester's key: the same key and request from
the same user returns the first result; the same key for another request of theirs is
refused.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.idempotency import claim_key, earlier_result, fingerprint, unique_key_per_requester
from domain.ledger import (
    AccountKind,
    AccountSpec,
    InsufficientBalance,
    LedgerAccount,
    credit,
    debit,
    open_accounts,
    post,
)
from domain.money import Money
from domain.tables import timestamp_column
from domain.users import Role, User, create_user

MAX_AMOUNT = 10**13


class FundsSource(enum.StrEnum):
    AVAILABLE = "AVAILABLE"  # not yet lent
    WALLET = "WALLET"  # repayments shared back


class Provider(SQLModel, table=True):
    __tablename__ = "providers"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", sa_column_kwargs={"unique": True})
    name: str = Field(max_length=100)
    currency: str = Field(max_length=3)
    created_at: datetime = Field(sa_column=timestamp_column())


class ProviderOperation(SQLModel, table=True):
    """An add or withdraw, kept with its key and the balances it left (for replays)."""

    __tablename__ = "provider_operations"
    __table_args__ = (unique_key_per_requester("provider_operations"),)

    id: int | None = Field(default=None, primary_key=True)
    requested_by: int  # whose idempotency key: the user who sent it (see domain.idempotency)
    idempotency_key: str = Field(max_length=100)
    fingerprint: str = Field(max_length=64)
    provider_id: int = Field(foreign_key="providers.id", index=True)
    kind: str = Field(max_length=20)
    amount_minor: int = Field(sa_type=sa.BigInteger)
    available_after_minor: int = Field(sa_type=sa.BigInteger)
    wallet_after_minor: int = Field(sa_type=sa.BigInteger)
    created_at: datetime = Field(sa_column=timestamp_column())


class InsufficientFunds(DomainError):
    code = "INSUFFICIENT_FUNDS"

    def __init__(self, source: FundsSource, balance: Money) -> None:
        super().__init__(f"Only {balance} is in {source.value.lower()}; nothing was moved.")
        self.source, self.balance = source, balance


class ProviderNotFound(DomainError):
    code = "PROVIDER_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("No such provider.")


def account_specs(provider: Provider) -> dict[str, AccountSpec]:
    pid, cur = provider.id, provider.currency
    return {
        "available": AccountSpec(
            f"provider:{pid}:available",
            f"Provider {pid} available",
            AccountKind.LIABILITY,
            cur,
            non_negative=True,
        ),
        "wallet": AccountSpec(
            f"provider:{pid}:wallet",
            f"Provider {pid} wallet",
            AccountKind.LIABILITY,
            cur,
            non_negative=True,
        ),
        "cash": AccountSpec(
            f"pool:cash:{cur}",
            f"Provider money held ({cur})",
            AccountKind.ASSET,
            cur,
            non_negative=True,
        ),
    }


def register_provider(
    session: Session, *, username: str, password: str, name: str, currency: str, now: datetime
) -> Provider:
    if not 0 < len(name.strip()) <= 100:
        raise InvalidInput([FieldProblem("name", "1-100 characters")])
    user = create_user(session, username, password, Role.PROVIDER)
    assert user.id is not None
    provider = Provider(user_id=user.id, name=name.strip(), currency=currency, created_at=now)
    session.add(provider)
    session.flush()
    open_accounts(session, list(account_specs(provider).values()))
    return provider


def provider_of_user(session: Session, user: User | None) -> Provider | None:
    if user is None or user.id is None:
        return None
    return session.exec(select(Provider).where(Provider.user_id == user.id)).first()


def balances(session: Session, providers: list[Provider]) -> dict[int, tuple[Money, Money]]:
    """(available, wallet) of each provider, from their ledger accounts, in one query."""
    codes = {p.id: account_specs(p) for p in providers if p.id is not None}
    rows = session.exec(
        select(LedgerAccount)
        .where(
            col(LedgerAccount.code).in_(
                [s.code for specs in codes.values() for s in (specs["available"], specs["wallet"])]
            )
        )
        .execution_options(populate_existing=True)  # as they are now, not as first read
    ).all()
    by_code = {row.code: row.balance for row in rows}
    return {
        pid: (
            by_code.get(specs["available"].code, Money.zero(specs["available"].currency)),
            by_code.get(specs["wallet"].code, Money.zero(specs["wallet"].currency)),
        )
        for pid, specs in codes.items()
    }


def _check_amount(provider: Provider, amount: Money) -> None:
    if amount.currency != provider.currency:
        raise InvalidInput([FieldProblem("amount", f"in {provider.currency}")])
    if not amount.is_positive() or amount.rounded() != amount or amount.to_minor() > MAX_AMOUNT:
        raise InvalidInput([FieldProblem("amount", "a positive amount to the minor unit")])


def move_funds(
    session: Session,
    provider: Provider,
    *,
    kind: str,
    amount: Money,
    source: FundsSource | None,
    key: str,
    requested_by: int,
    now: datetime,
) -> ProviderOperation:
    """ADD funds to available, or WITHDRAW from available or the wallet; once per key of
    the requester (the user who sent the request)."""
    if not 8 <= len(key) <= 100:
        raise InvalidInput([FieldProblem("idempotencyKey", "8-100 characters")])
    _check_amount(provider, amount)
    print_ = fingerprint(provider.id, kind, amount.to_minor(), source)
    earlier = earlier_result(
        session, ProviderOperation, requested_by=requested_by, key=key, print_=print_
    )
    if earlier is not None:
        return earlier
    accounts = open_accounts(session, list(account_specs(provider).values()))
    specs = account_specs(provider)
    cash = accounts[specs["cash"].code]
    target = accounts[
        specs["available" if source in (None, FundsSource.AVAILABLE) else "wallet"].code
    ]
    legs = (
        [debit(cash, amount), credit(target, amount)]
        if kind == "ADD"
        else [debit(target, amount), credit(cash, amount)]
    )
    operation = ProviderOperation(
        requested_by=requested_by,
        idempotency_key=key,
        fingerprint=print_,
        provider_id=provider.id or 0,
        kind=kind,
        amount_minor=amount.to_minor(),
        available_after_minor=0,
        wallet_after_minor=0,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a refusal leaves neither the claim nor the entry
            if (holder := claim_key(session, operation)) is not operation:
                return holder  # the same request, a moment earlier
            post(
                session,
                f"PROVIDER_{kind}",
                f"Provider {provider.id} {kind.lower()}",
                now.date(),
                legs,
                reference=f"provider:{provider.id}",
            )
    except InsufficientBalance:
        # the balance as it is now, not as it was read before another request moved it
        available, wallet = balances(session, [provider])[provider.id or 0]
        held = wallet if source is FundsSource.WALLET else available
        raise InsufficientFunds(source or FundsSource.AVAILABLE, held) from None
    available, wallet = balances(session, [provider])[provider.id or 0]
    operation.available_after_minor = available.to_minor()
    operation.wallet_after_minor = wallet.to_minor()
    session.add(operation)
    session.flush()
    return operation
