"""Savings-account transactions, imported from the bank's files (RULES.md §4)."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from domain.customers import Customer, IdType


class TransactionType(enum.StrEnum):
    CREDIT = "CREDIT"
    DEBIT = "DEBIT"


class SavingsTransaction(SQLModel, table=True):
    __tablename__ = "savings_transactions"
    __table_args__ = (sa.CheckConstraint("amount_minor >= 0", name="non_negative_amount"),)

    id: int | None = Field(default=None, primary_key=True)
    national_id: str = Field(max_length=64, index=True)  # the file's `user` (Aadhar id)
    booked_on: date
    type: TransactionType = Field(
        sa_type=sa.Enum(TransactionType, name="transaction_type", native_enum=False, length=8)
    )
    amount_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(default="INR", max_length=3)
    # Same file row twice -> same key: re-imports add nothing (see importing.transactions).
    dedupe_key: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})


def balances(session: Session, national_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(Σ CREDIT − Σ DEBIT in minor units, transaction count) per national id with any."""
    signed = sa.case(
        (col(SavingsTransaction.type) == TransactionType.CREDIT, SavingsTransaction.amount_minor),
        else_=-SavingsTransaction.amount_minor,
    )
    rows = session.exec(
        select(SavingsTransaction.national_id, func.sum(signed), func.count())
        .where(col(SavingsTransaction.national_id).in_(national_ids))
        .group_by(SavingsTransaction.national_id)
    ).all()
    return {nid: (int(total), int(count)) for nid, total, count in rows}


def account_holders(national_ids: Collection[str]) -> SelectOfScalar[Customer]:
    """The customers whose transactions these are: only a verified Aadhar id links bank data
    to a customer (see Customer.national_id_verified)."""
    return select(Customer).where(
        col(Customer.national_id).in_(national_ids),
        col(Customer.id_type) == IdType.AADHAR,
        col(Customer.national_id_verified).is_(True),
    )
