"""Provider funds: added and withdrawn through the ledger, once per key, never below zero."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from domain.errors import IdempotencyConflict, InvalidInput
from domain.idempotency import SYSTEM_REQUESTER
from domain.ledger import open_accounts, verify_ledger
from domain.money import Money
from domain.providers import (
    FundsSource,
    InsufficientFunds,
    Provider,
    ProviderOperation,
    account_specs,
    balances,
    move_funds,
    register_provider,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


def provider(session: Session, name: str = "anil") -> Provider:
    return register_provider(
        session, username=name, password="long enough pass", name=name, currency="INR", now=NOW
    )


def move(
    session: Session,
    who: Provider,
    kind: str,
    amount: str,
    key: str,
    source: FundsSource | None = None,
) -> ProviderOperation:
    return move_funds(
        session,
        who,
        kind=kind,
        amount=inr(amount),
        source=source,
        key=key,
        now=NOW,
        requested_by=SYSTEM_REQUESTER,
    )


def test_added_funds_are_available_and_replays_apply_once(session: Session) -> None:
    anil = provider(session)
    first = move(session, anil, "ADD", "300", "add-key-0001")
    again = move(session, anil, "ADD", "300", "add-key-0001")
    assert again.id == first.id and first.available_after_minor == 300_00
    assert balances(session, [anil])[anil.id or 0] == (inr("300"), inr("0"))
    with pytest.raises(IdempotencyConflict):
        move(session, anil, "ADD", "301", "add-key-0001")
    assert verify_ledger(session) == []


def test_withdrawing_more_than_there_is_changes_nothing(session: Session) -> None:
    anil = provider(session)
    move(session, anil, "ADD", "100", "add-key-0002")
    with pytest.raises(InsufficientFunds, match=r"100\.00 INR"):
        move(session, anil, "WITHDRAW", "100.01", "wd-key-0001", FundsSource.AVAILABLE)
    with pytest.raises(InsufficientFunds):
        move(session, anil, "WITHDRAW", "1", "wd-key-0002", FundsSource.WALLET)
    assert balances(session, [anil])[anil.id or 0] == (inr("100"), inr("0"))
    assert session.exec(select(func.count()).select_from(ProviderOperation)).one() == 1
    done = move(session, anil, "WITHDRAW", "40", "wd-key-0003", FundsSource.AVAILABLE)
    assert done.available_after_minor == 60_00
    replay = move(session, anil, "WITHDRAW", "40", "wd-key-0003", FundsSource.AVAILABLE)
    assert replay.id == done.id  # withdrawn once
    with pytest.raises(IdempotencyConflict):
        move(session, anil, "WITHDRAW", "41", "wd-key-0003", FundsSource.AVAILABLE)
    assert balances(session, [anil])[anil.id or 0][0] == inr("60")
    assert verify_ledger(session) == []


@pytest.mark.parametrize("amount", ["0", "-5", "1.005"])
def test_amounts_must_be_positive_to_the_minor_unit(session: Session, amount: str) -> None:
    anil = provider(session)
    with pytest.raises(InvalidInput):
        move(session, anil, "ADD", amount, "add-key-0003")


def _pg(postgresql_url: str) -> tuple[object, sessionmaker[Session]]:
    from app.db import make_engine, make_session_factory
    from tests.databases import empty_all_tables

    engine = make_engine(postgresql_url, pool_size=20)
    empty_all_tables(engine)
    return engine, make_session_factory(engine)


def test_concurrent_requests_with_one_key_add_once(postgresql_url: str) -> None:
    engine, sessions = _pg(postgresql_url)
    with sessions() as session:
        provider_id = provider(session).id
        session.commit()

    def add(_: int) -> int:
        with sessions() as session:
            anil = session.get(Provider, provider_id)
            assert anil is not None
            operation = move(session, anil, "ADD", "100", "same-add-key")
            session.commit()
            return operation.id or 0

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            ids = set(pool.map(add, range(10)))
        with sessions() as session:
            anil = session.get(Provider, provider_id)
            assert anil is not None
            assert balances(session, [anil])[anil.id or 0][0] == inr("100")
            assert verify_ledger(session) == []
        assert len(ids) == 1
    finally:
        engine.dispose()  # type: ignore[attr-defined]


def test_concurrent_withdrawals_never_take_a_balance_below_zero(postgresql_url: str) -> None:
    engine, sessions = _pg(postgresql_url)
    with sessions() as session:
        anil = provider(session)
        move(session, anil, "ADD", "300", "seed-key-0001")
        provider_id = anil.id
        session.commit()

    def withdraw(n: int) -> bool:
        with sessions() as session:
            who = session.get(Provider, provider_id)
            assert who is not None
            try:
                move(session, who, "WITHDRAW", "20", f"wd-race-{n:04d}", FundsSource.AVAILABLE)
            except InsufficientFunds:
                return False
            session.commit()
            return True

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            succeeded = sum(pool.map(withdraw, range(20)))
        with sessions() as session:
            who = session.get(Provider, provider_id)
            assert who is not None
            assert succeeded == 15
            assert balances(session, [who])[who.id or 0][0] == inr("0")
            assert verify_ledger(session) == []
    finally:
        engine.dispose()  # type: ignore[attr-defined]


def test_a_refused_withdrawal_names_the_balance_as_it_is_now(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as first:
        anil = provider(first)
        move(first, anil, "ADD", "400", "add-key-0101")
        first.commit()
        seen = open_accounts(first, list(account_specs(anil).values()))
        assert {a.balance_minor for a in seen.values()} >= {40000}  # read before the other
        first.commit()
        with session_factory() as second:  # another request takes most of it meanwhile
            other = second.get(Provider, anil.id)
            assert other is not None
            move(second, other, "WITHDRAW", "350", "wd-key-0101")
            second.commit()

        with pytest.raises(InsufficientFunds) as refused:
            move(first, anil, "WITHDRAW", "100", "wd-key-0102")

        assert refused.value.balance == inr("50")
        assert "Only 50.00 INR" in str(refused.value), str(refused.value)
