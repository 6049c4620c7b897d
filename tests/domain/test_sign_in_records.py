"""Stale sign-in records are purged; live ones are kept."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from domain.errors import InvalidCredentials
from domain.sign_in import LoginThrottle, RefreshToken, log_in, purge_expired
from domain.tables import utcnow
from domain.users import Role, create_user
from tests.conftest import make_settings


def test_purge_drops_expired_tokens_and_idle_throttles_only(session: Session) -> None:
    policy = make_settings("sqlite://").sign_in_policy()
    create_user(session, "asha", "correct horse battery", Role.CUSTOMER)
    now = utcnow()
    log_in(session, policy, "asha", "correct horse battery", now)  # a live token
    with pytest.raises(InvalidCredentials):
        log_in(session, policy, "nobody", "guess-guess", now)  # leaves a throttle row
    session.flush()

    assert purge_expired(session, policy, now) == 0
    later = now + policy.refresh_ttl + timedelta(seconds=1)
    assert purge_expired(session, policy, later) == 3  # one token, two throttles
    assert session.exec(select(RefreshToken)).all() == []
    assert session.exec(select(LoginThrottle)).all() == []


def test_purge_keeps_a_throttle_that_still_locks(session: Session) -> None:
    policy = make_settings("sqlite://").sign_in_policy()
    now = utcnow()
    session.add(
        LoginThrottle(
            username="x",
            failures=0,
            window_started_at=now - timedelta(hours=2),
            locked_until=now + timedelta(minutes=1),
        )
    )
    session.flush()
    assert purge_expired(session, policy, now) == 0
