"""The ledger balances, is append-only, and never lets a guarded account go negative."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from app.migrations import migrate
from domain.ledger import (
    AccountKind,
    AccountSpec,
    InsufficientBalance,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    UnbalancedEntry,
    credit,
    debit,
    open_accounts,
    post,
    verify_ledger,
)
from domain.money import Money

TODAY = date(2026, 11, 23)
CASH = AccountSpec("bank:cash:INR", "Bank cash", AccountKind.ASSET, "INR")
CAPITAL = AccountSpec("bank:capital:INR", "Bank capital", AccountKind.EQUITY, "INR")
WALLET = AccountSpec("wallet:1:INR", "A wallet", AccountKind.LIABILITY, "INR", non_negative=True)


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


def test_a_balanced_entry_moves_both_balances(session: Session) -> None:
    accounts = open_accounts(session, [CASH, CAPITAL])
    post(
        session,
        "CAPITAL",
        "bank capital paid in",
        TODAY,
        [debit(accounts[CASH.code], inr("1000")), credit(accounts[CAPITAL.code], inr("1000"))],
    )
    session.commit()
    assert accounts[CASH.code].balance == inr("1000")
    assert accounts[CAPITAL.code].balance == inr("1000")
    assert verify_ledger(session) == []


def test_an_unbalanced_entry_is_refused_before_it_reaches_the_database(session: Session) -> None:
    accounts = open_accounts(session, [CASH, CAPITAL])
    with pytest.raises(UnbalancedEntry, match="INR off by 1"):
        post(
            session,
            "X",
            "off by a paisa",
            TODAY,
            [debit(accounts[CASH.code], inr("10.01")), credit(accounts[CAPITAL.code], inr("10"))],
        )


def _raw_entry(session: Session, amounts: list[int], account_id: int) -> JournalEntry:
    entry = JournalEntry(kind="RAW", description="bypassing the domain", occurred_on=TODAY)
    session.add(entry)
    session.flush()
    assert entry.id is not None
    for amount in amounts:
        session.add(
            JournalLine(
                entry_id=entry.id, account_id=account_id, amount_minor=amount, currency="INR"
            )
        )
    session.flush()
    return entry


def test_the_database_refuses_to_post_an_unbalanced_entry(session: Session) -> None:
    accounts = open_accounts(session, [CASH])
    entry = _raw_entry(session, [500, -499], accounts[CASH.code].id or 0)
    entry.posted = True
    with pytest.raises((IntegrityError, DBAPIError)):
        session.flush()


def test_posted_lines_cannot_change_and_posted_entries_take_no_new_lines(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        accounts = open_accounts(session, [CASH, CAPITAL])
        entry = post(
            session,
            "CAPITAL",
            "paid in",
            TODAY,
            [debit(accounts[CASH.code], inr("5")), credit(accounts[CAPITAL.code], inr("5"))],
        )
        session.commit()
        entry_id, cash_id = entry.id, accounts[CASH.code].id
    with session_factory() as session, pytest.raises((IntegrityError, DBAPIError)):
        session.exec(sa.update(JournalLine).values(amount_minor=7))
        session.flush()
    with session_factory() as session, pytest.raises((IntegrityError, DBAPIError)):
        session.add(
            JournalLine(
                entry_id=entry_id or 0, account_id=cash_id or 0, amount_minor=1, currency="INR"
            )
        )
        session.flush()


def test_a_guarded_account_never_goes_negative_and_nothing_is_booked(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        accounts = open_accounts(session, [CASH, WALLET])
        post(
            session,
            "DEPOSIT",
            "in",
            TODAY,
            [debit(accounts[CASH.code], inr("100")), credit(accounts[WALLET.code], inr("100"))],
        )
        session.commit()
    with session_factory() as session:
        accounts = open_accounts(session, [CASH, WALLET])
        with pytest.raises(InsufficientBalance):
            post(
                session,
                "WITHDRAW",
                "too much",
                TODAY,
                [
                    debit(accounts[WALLET.code], inr("100.01")),
                    credit(accounts[CASH.code], inr("100.01")),
                ],
            )
        session.rollback()
    with session_factory() as session:
        wallet = session.exec(select(LedgerAccount).where(LedgerAccount.code == WALLET.code)).one()
        assert wallet.balance == inr("100")
        assert session.exec(select(sa.func.count()).select_from(JournalEntry)).one() == 1
        assert verify_ledger(session) == []


def test_verify_finds_a_balance_that_does_not_match_its_lines(session: Session) -> None:
    accounts = open_accounts(session, [CASH, CAPITAL])
    post(
        session,
        "CAPITAL",
        "paid in",
        TODAY,
        [debit(accounts[CASH.code], inr("1")), credit(accounts[CAPITAL.code], inr("1"))],
    )
    session.exec(
        sa.update(LedgerAccount).where(LedgerAccount.code == CASH.code).values(balance_minor=999)
    )
    [problem] = verify_ledger(session)
    assert "bank:cash:INR shows 999 but its lines make 100" in problem.what


def test_concurrent_postings_lose_no_update(postgresql_url: str) -> None:
    from app.db import make_engine, make_session_factory
    from tests.databases import empty_all_tables

    engine = make_engine(postgresql_url, pool_size=20)
    empty_all_tables(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        open_accounts(session, [CASH, WALLET])
        session.commit()

    def deposit(_: int) -> None:
        with sessions() as session:
            accounts = open_accounts(session, [CASH, WALLET])
            post(
                session,
                "DEPOSIT",
                "in",
                TODAY,
                [
                    debit(accounts[CASH.code], inr("1.01")),
                    credit(accounts[WALLET.code], inr("1.01")),
                ],
            )
            session.commit()

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(deposit, range(200)))
        with sessions() as session:
            wallet = session.exec(
                select(LedgerAccount).where(LedgerAccount.code == WALLET.code)
            ).one()
            assert wallet.balance == inr("202")
            assert verify_ledger(session) == []
    finally:
        engine.dispose()


def test_the_verify_command_exits_1_on_a_problem_and_0_when_clean(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    migrate(url)
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "app.cli", "ledger", "verify"]
    clean = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert clean.returncode == 0 and "ledger verified" in clean.stderr
    engine = sa.create_engine(url)
    with Session(engine) as session:
        accounts = open_accounts(session, [CASH, CAPITAL])
        post(
            session,
            "CAPITAL",
            "paid in",
            TODAY,
            [debit(accounts[CASH.code], inr("1")), credit(accounts[CAPITAL.code], inr("1"))],
        )
        session.exec(sa.update(LedgerAccount).values(balance_minor=5))
        session.commit()
    engine.dispose()
    broken = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1 and "but its lines make" in broken.stderr


def test_the_database_refuses_a_line_in_another_currency(session: Session) -> None:
    accounts = open_accounts(session, [CASH])
    entry = JournalEntry(kind="RAW", description="wrong currency", occurred_on=TODAY)
    session.add(entry)
    session.flush()
    session.add(
        JournalLine(
            entry_id=entry.id or 0,
            account_id=accounts[CASH.code].id or 0,
            amount_minor=100,
            currency="KES",
        )
    )
    with pytest.raises((IntegrityError, DBAPIError), match="currency"):
        session.flush()
