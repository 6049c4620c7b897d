"""Setting a customer's national id, and the unique constraint that settles a race for one
(RULES.md §4: the Aadhar id is unique), on SQLite and PostgreSQL."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from domain import national_ids
from domain.customers import Customer, DuplicateCustomer, IdType
from domain.national_ids import NationalIdChange, set_national_id
from domain.outbox import OutboxMessage
from tests.domain.test_customer_constraints import AADHAR, customer


def held(sessions: sessionmaker[Session], customer_id: int | None) -> tuple[Any, ...]:
    with sessions() as session:
        row = session.get(Customer, customer_id)
        assert row is not None
        return row.id_type, row.national_id, row.national_id_verified


def test_an_id_lost_to_a_concurrent_writer_is_refused_by_the_constraint_name(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_factory() as session:
        customer(session, "9700000001", AADHAR)
        late = customer(session, "9700000002")
        late_id = late.id
        session.commit()
        # the pre-check ran before the other writer committed: only the constraint is left
        monkeypatch.setattr(national_ids, "refuse_duplicates", lambda *args, **kw: None)
        with pytest.raises(DuplicateCustomer) as refused:
            set_national_id(session, late, NationalIdChange(AADHAR))
        assert refused.value.field == "national id"
        session.rollback()
        assert session.exec(select(OutboxMessage)).all() == []
    assert held(session_factory, late_id) == (None, None, False)


def test_two_staff_claiming_one_id_at_once_leave_it_with_one_customer(
    postgresql_url: str,
) -> None:
    from app.db import make_engine, make_session_factory
    from tests.databases import empty_all_tables

    engine = make_engine(postgresql_url, pool_size=4)
    empty_all_tables(engine)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    with sessions() as session:
        first, second = customer(session, "9700000011").id, customer(session, "9700000012").id
        session.commit()
    started = threading.Event()

    def claim_second() -> DuplicateCustomer | None:
        with sessions() as session:
            row = session.get(Customer, second)
            assert row is not None
            started.set()
            try:
                set_national_id(session, row, NationalIdChange(AADHAR))
            except DuplicateCustomer as refused:
                return refused
            session.commit()
            return None

    try:
        with sessions() as winner, ThreadPoolExecutor(max_workers=1) as pool:
            row = winner.get(Customer, first)
            assert row is not None
            set_national_id(winner, row, NationalIdChange(AADHAR))  # written, not committed
            loser = pool.submit(claim_second)
            started.wait(10)
            _wait_for_a_lock_wait(engine)  # past its pre-check, waiting on the id's key
            winner.commit()
            refused = loser.result(timeout=30)
        assert refused is not None and refused.field == "national id"
        assert held(sessions, first) == (IdType.AADHAR, AADHAR, True)
        assert held(sessions, second) == (None, None, False)
    finally:
        engine.dispose()


def _wait_for_a_lock_wait(engine: sa.Engine) -> None:
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while connection.execute(waiting).scalar_one() == 0:
            assert time.monotonic() < deadline, "the second claim never waited on the first"
            time.sleep(0.02)
            connection.rollback()
