"""Funding provider-funded loans from the pool, all or nothing (RULES.md §2, §6).

Providers give in order of available amount ascending (ties by id), each
min(available, still needed), until the loan is covered; if the pool cannot cover it,
nothing changes. One funding at a time holds the pool (the BankConfig row), so a pool is
never promised twice; provider accounts are then locked in id order.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from domain.accounts import principal_account
from domain.errors import DomainError
from domain.ledger import (
    AccountKind,
    AccountSpec,
    LedgerAccount,
    Leg,
    credit,
    debit,
    open_accounts,
    post,
)
from domain.loans import Loan
from domain.money import Money
from domain.pagination import Page, page_by_id
from domain.products import BankConfig
from domain.providers import Provider, account_specs


class Funding(SQLModel, table=True):
    __tablename__ = "fundings"
    __table_args__ = (
        sa.UniqueConstraint("loan_id", "provider_id", name="uq_fundings_share"),
        sa.CheckConstraint("amount_minor > 0", name="positive_amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    provider_id: int = Field(foreign_key="providers.id", index=True)
    amount_minor: int = Field(sa_type=sa.BigInteger)


class RepaymentShare(SQLModel, table=True):
    """What one funder got of one repayment (into their wallet)."""

    __tablename__ = "repayment_shares"
    __table_args__ = (
        sa.Index("ix_repayment_shares_loan_provider", "loan_id", "provider_id"),
        sa.UniqueConstraint("payment_id", "provider_id", name="uq_repayment_shares_payment"),
        sa.CheckConstraint("amount_minor >= 0", name="non_negative_amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payments.id")
    loan_id: int = Field(foreign_key="loans.id")
    provider_id: int = Field(foreign_key="providers.id", index=True)
    amount_minor: int = Field(sa_type=sa.BigInteger)


class PoolCannotCover(DomainError):
    code = "INSUFFICIENT_POOL_FUNDS"

    def __init__(self, available: Money, needed: Money) -> None:
        super().__init__(f"The providers' pool holds {available}; the loan needs {needed}.")


@dataclass(frozen=True)
class Share:
    provider: Provider
    amount: Money


def _lent_spec(provider: Provider) -> AccountSpec:
    return AccountSpec(
        f"provider:{provider.id}:lent",
        f"Provider {provider.id} lent out",
        AccountKind.LIABILITY,
        provider.currency,
        non_negative=True,
    )


def allocate(session: Session, needed: Money) -> list[Share]:
    """Lock the pool and pick the providers' shares, or refuse if the pool is short."""
    session.exec(select(BankConfig.id).where(BankConfig.id == 1).with_for_update())
    rows = session.exec(
        select(Provider, LedgerAccount)
        .join(
            LedgerAccount,
            col(LedgerAccount.code)
            == sa.literal("provider:") + sa.cast(Provider.id, sa.String) + ":available",
        )
        .where(col(Provider.currency) == needed.currency, LedgerAccount.balance_minor > 0)
        .order_by(col(LedgerAccount.id))
        .with_for_update(of=LedgerAccount)
    ).all()
    by_size = sorted(rows, key=lambda row: (row[1].balance_minor, row[0].id or 0))
    shares, still = [], needed
    for provider, account in by_size:
        if not still.is_positive():
            break
        give = min(account.balance, still)
        shares.append(Share(provider, give))
        still = still - give
    if still.is_positive():
        available = sum((a.balance for _, a in rows), Money.zero(needed.currency))
        raise PoolCannotCover(available, needed)
    return shares


def fund(session: Session, loan: Loan, shares: list[Share]) -> list[Funding]:
    """Book the allocated shares: the loan is paid out of the pool's cash (RULES.md §6)."""
    specs = [
        s
        for share in shares
        for s in (account_specs(share.provider)["available"], _lent_spec(share.provider))
    ]
    pool = account_specs(shares[0].provider)["cash"]
    receivable = principal_account(loan)
    accounts = open_accounts(session, [*specs, pool, receivable])
    legs = [
        debit(accounts[receivable.code], loan.principal),
        credit(accounts[pool.code], loan.principal),
    ]
    for share in shares:
        legs += [
            debit(accounts[account_specs(share.provider)["available"].code], share.amount),
            credit(accounts[_lent_spec(share.provider).code], share.amount),
        ]
    post(
        session,
        "FUNDING",
        f"Loan {loan.number} funded by providers",
        loan.start_date,
        legs,
        reference=f"loan:{loan.number}",
    )
    rows = [
        Funding(
            loan_id=loan.id or 0,
            provider_id=share.provider.id or 0,
            amount_minor=share.amount.to_minor(),
        )
        for share in shares
    ]
    session.add_all(rows)
    session.flush()
    return rows


def repayment_shares(fundings: list[Funding], amount: Money) -> list[tuple[int, Money]]:
    """Split a repayment across a loan's funders in proportion to what each funded, to the
    minor unit and summing exactly (largest remainder, ties by provider id)."""
    ordered = sorted(fundings, key=lambda f: f.provider_id)
    parts = amount.allocate([f.amount_minor for f in ordered])
    return [(f.provider_id, part) for f, part in zip(ordered, parts, strict=True)]


def wallet_shares(fundings: list[Funding], amount: int, received: dict[int, int]) -> list[int]:
    """Split a repayment of `amount` minor units across the funders, in `fundings` order.

    Each share is its exact proportion rounded down or up (so within one minor unit of it),
    never negative, and the shares sum exactly to the amount (RULES.md §2). The units left
    after rounding down go to the funders furthest behind their exact share of everything
    repaid so far (`received` is what each has had of earlier repayments; ties by provider
    id), so many small repayments do not keep favouring the same funder.
    """
    whole = sum(f.amount_minor for f in fundings)
    floors = [amount * f.amount_minor // whole for f in fundings]
    total_after = sum(received.values()) + amount
    behind = [  # exact entitlement minus what the funder would have, scaled by `whole`
        total_after * f.amount_minor - whole * (received.get(f.provider_id, 0) + floor)
        for f, floor in zip(fundings, floors, strict=True)
    ]
    order = sorted(range(len(fundings)), key=lambda n: (-behind[n], fundings[n].provider_id))
    extra = set(order[: amount - sum(floors)])
    return [floor + (n in extra) for n, floor in enumerate(floors)]


def shares_of_payments(
    session: Session, payment_ids: list[int], provider_id: int
) -> dict[int, int]:
    """What one provider got of each of these repayments (minor units), in one query."""
    if not payment_ids:
        return {}
    return dict(
        session.exec(
            select(RepaymentShare.payment_id, RepaymentShare.amount_minor).where(
                col(RepaymentShare.payment_id).in_(payment_ids),
                RepaymentShare.provider_id == provider_id,
            )
        ).all()
    )


def _received(session: Session, loan: Loan) -> dict[int, int]:
    return dict(
        session.exec(
            select(RepaymentShare.provider_id, sa.func.sum(RepaymentShare.amount_minor))
            .where(RepaymentShare.loan_id == loan.id)
            .group_by(col(RepaymentShare.provider_id))
        ).all()
    )


def fundings_page(
    session: Session, provider_id: int, first: int, after: int | None
) -> Page[Funding]:
    statement = select(Funding).where(Funding.provider_id == provider_id)
    return page_by_id(session, statement, Funding.id, first, after)


def loan_totals(session: Session, loan_ids: list[int]) -> dict[int, int]:
    """Principal funded per loan, for shares, in one query."""
    if not loan_ids:
        return {}
    return dict(
        session.exec(
            select(Funding.loan_id, sa.func.sum(Funding.amount_minor))
            .where(col(Funding.loan_id).in_(loan_ids))
            .group_by(col(Funding.loan_id))
        ).all()
    )


@dataclass(frozen=True)
class PoolTotals:
    total_funds: Money  # everything providers have put in and not withdrawn
    lent: Money
    available: Money


def pool_totals(session: Session, currency: str) -> PoolTotals:
    def total(suffix: str) -> Money:
        minor = session.exec(
            select(sa.func.coalesce(sa.func.sum(LedgerAccount.balance_minor), 0)).where(
                col(LedgerAccount.code).like(f"provider:%:{suffix}"),
                LedgerAccount.currency == currency,
            )
        ).one()
        return Money.from_minor(int(minor), currency)

    available, lent = total("available"), total("lent")
    return PoolTotals(available + lent, lent, available)


def total_funded(session: Session, provider_id: int) -> int:
    return int(
        session.exec(
            select(sa.func.coalesce(sa.func.sum(Funding.amount_minor), 0)).where(
                Funding.provider_id == provider_id
            )
        ).one()
    )


def _fundings_of(session: Session, loan: Loan) -> list[tuple[Funding, Provider]]:
    return list(
        session.exec(
            select(Funding, Provider)
            .join(Provider, col(Provider.id) == Funding.provider_id)
            .where(Funding.loan_id == loan.id)
            .order_by(col(Funding.provider_id))
        ).all()
    )


def repayment_legs(
    session: Session, loan: Loan, payment_id: int, amount: Money, principal: Money
) -> tuple[list[Leg], list[tuple[int, Money]]]:
    """The ledger legs of a repayment of a provider-funded loan, and each funder's share
    (recorded against the payment).

    The money comes into the pool's cash and is owed to the funders' wallets, shared in
    proportion to what each funded (`wallet_shares`). Its principal part lowers the loan's
    receivable and each funder's lent-out balance. That split is made on the principal
    repaid so far in all (largest remainder), not payment by payment, so each funder's lent
    balance reaches exactly zero with the loan's and never dips below it on the way.
    """
    funders = _fundings_of(session, loan)
    fundings = [f for f, _ in funders]
    providers = {p.id: p for _, p in funders}
    parts = wallet_shares(fundings, amount.to_minor(), _received(session, loan))
    shares = [
        (f.provider_id, Money.from_minor(part, amount.currency))
        for f, part in zip(fundings, parts, strict=True)
    ]
    session.add_all(
        RepaymentShare(
            payment_id=payment_id, loan_id=loan.id or 0, provider_id=pid, amount_minor=part
        )
        for (pid, _), part in zip(shares, parts, strict=True)
    )
    pool, receivable = account_specs(funders[0][1])["cash"], principal_account(loan)
    wallets = {pid: account_specs(providers[pid])["wallet"] for pid, _ in shares}
    lent = {pid: _lent_spec(providers[pid]) for pid, _ in shares}
    accounts = open_accounts(session, [*wallets.values(), *lent.values(), pool, receivable])
    repaid_before = loan.principal - accounts[receivable.code].balance
    before = dict(repayment_shares(fundings, repaid_before))
    after = dict(repayment_shares(fundings, repaid_before + principal))
    legs = [debit(accounts[pool.code], amount)]
    legs += [
        credit(accounts[wallets[pid].code], part) for pid, part in shares if part.is_positive()
    ]
    if principal.is_positive():
        legs.append(credit(accounts[receivable.code], principal))
        legs += [
            debit(accounts[lent[pid].code], after[pid] - before[pid])
            for pid in lent
            if after[pid] != before[pid]
        ]
    return legs, shares
