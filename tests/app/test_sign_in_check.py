"""The per-request sign-in check: one users-row lookup per user per cache lifetime, and a
sign-out forgotten at once, even when it races a lookup."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import app.sign_in_check as module
from app.sign_in_check import MAX_REMEMBERED_USERS, RevokingPublisher, SignInCheck
from domain.users import ACCESS_REVOKED, Role, SignInState
from resolvers.context import Viewer

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
NO_SESSION: Any = None  # the users table is faked below


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Users:
    """The users table as the check reads it, counting the reads."""

    def __init__(self) -> None:
        self.rows: dict[int, SignInState] = {}
        self.reads = 0
        self.during_read: Any = None

    def state(self, _session: Any, user_id: int) -> SignInState | None:
        self.reads += 1
        found = self.rows.get(user_id)
        if self.during_read is not None:
            self.during_read()
        return found


@pytest.fixture
def users(monkeypatch: pytest.MonkeyPatch) -> Users:
    table = Users()
    table.rows[7] = SignInState(is_active=True, role=Role.CUSTOMER, session_version=0)
    monkeypatch.setattr(module, "sign_in_state", table.state)
    return table


def viewer(version: int = 0, user_id: int = 7, role: Role = Role.CUSTOMER) -> Viewer:
    return Viewer(user_id, role, "jti", EXPIRES, version)


def signed_out(users: Users, user_id: int = 7) -> None:
    users.rows[user_id] = SignInState(True, Role.CUSTOMER, users.rows[user_id].session_version + 1)


def test_a_user_is_read_once_per_cache_lifetime(users: Users) -> None:
    clock = Clock()
    check = SignInCheck(2.0, clock)
    assert check.admits(NO_SESSION, viewer()) and check.admits(NO_SESSION, viewer())
    assert users.reads == 1
    clock.now += 2.01
    assert check.admits(NO_SESSION, viewer())
    assert users.reads == 2


def test_a_remembered_state_is_trusted_only_until_the_cache_lifetime_ends(users: Users) -> None:
    clock = Clock()
    check = SignInCheck(2.0, clock)
    assert check.admits(NO_SESSION, viewer())
    signed_out(users)  # in another process, whose event never came
    clock.now += 1.9
    assert check.admits(NO_SESSION, viewer())
    clock.now += 0.2
    assert not check.admits(NO_SESSION, viewer())


def test_a_sign_out_published_here_is_forgotten_before_the_hub_hears_of_it(users: Users) -> None:
    check = SignInCheck(2.0, Clock())
    published: list[tuple[str, dict[str, Any]]] = []

    class Hub:
        def publish(self, topic: str, payload: dict[str, Any]) -> None:
            assert not check.admits(NO_SESSION, viewer())
            published.append((topic, payload))

    assert check.admits(NO_SESSION, viewer())
    signed_out(users)
    RevokingPublisher(Hub(), check).publish(ACCESS_REVOKED, {"userId": 7, "sessionVersion": 1})
    assert published == [(ACCESS_REVOKED, {"userId": 7, "sessionVersion": 1})]
    assert check.admits(NO_SESSION, viewer(version=1))


def test_a_lookup_racing_a_sign_out_is_not_remembered(users: Users) -> None:
    check = SignInCheck(2.0, Clock())

    def sign_out_meanwhile() -> None:
        users.during_read = None
        signed_out(users)
        check.forget(7)

    users.during_read = sign_out_meanwhile
    assert check.admits(NO_SESSION, viewer())  # read just before
    assert not check.admits(NO_SESSION, viewer())
    assert users.reads == 2


def test_disabled_unknown_and_other_role_users_are_refused(users: Users) -> None:
    check = SignInCheck(2.0, Clock())
    users.rows[8] = SignInState(is_active=False, role=Role.CUSTOMER, session_version=0)
    assert not check.admits(NO_SESSION, viewer(user_id=8))
    assert not check.admits(NO_SESSION, viewer(user_id=9))
    assert not check.admits(NO_SESSION, viewer(role=Role.STAFF))


def test_without_a_cache_lifetime_every_check_reads_the_row(users: Users) -> None:
    check = SignInCheck(0, Clock())
    for _ in range(3):
        assert check.admits(NO_SESSION, viewer())
    assert users.reads == 3


def test_memory_stays_bounded_however_many_users_sign_in(users: Users) -> None:
    clock = Clock()
    check = SignInCheck(2.0, clock)
    for user_id in range(MAX_REMEMBERED_USERS + 50):
        check.admits(NO_SESSION, viewer(user_id=user_id))
    assert len(check._states) <= MAX_REMEMBERED_USERS
