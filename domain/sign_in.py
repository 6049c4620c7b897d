"""Signing in: credentials checked with a per-username throttle, and refresh-token families.

A refresh token is opaque, stored only as its SHA-256, and single-use: each refresh rotates
it inside its family; presenting an already-rotated token revokes the whole family (the
token was stolen or replayed). Logging out, a replayed refresh token and disabling the account
also revoke the access tokens already issued to the user (domain.users.revoke_access).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, delete, select, update

from domain.access_tokens import TokenPolicy, issue_access_token
from domain.errors import (
    InvalidCredentials,
    InvalidRefreshToken,
    TooManyLoginAttempts,
    UnknownUser,
)
from domain.passwords import verify_password
from domain.tables import timestamp_column, utcnow
from domain.upsert import upsert
from domain.users import SignOutReason, User, find_user_by_username, revoke_access


@dataclass(frozen=True)
class SignInPolicy:
    """Token lifetimes and the failed-login throttle (from settings)."""

    access: TokenPolicy
    refresh_ttl: timedelta
    max_failed_logins: int
    failure_window: timedelta
    lockout: timedelta


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    family_id: str = Field(max_length=32, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())
    rotated_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per username (known or not, so the throttle reveals nothing)."""

    __tablename__ = "login_throttles"

    username: str = Field(max_length=64, primary_key=True)
    failures: int = Field(default=0)
    window_started_at: datetime = Field(sa_column=timestamp_column())
    locked_until: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


@dataclass(frozen=True)
class IssuedTokens:
    """What a successful sign-in or refresh hands back."""

    user: User
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(
    session: Session, policy: SignInPolicy, user: User, family: str, now: datetime
) -> IssuedTokens:
    assert user.id is not None
    refresh = secrets.token_urlsafe(32)
    refresh_expires = now + policy.refresh_ttl
    session.add(
        RefreshToken(
            token_hash=_digest(refresh),
            family_id=family,
            user_id=user.id,
            issued_at=now,
            expires_at=refresh_expires,
        )
    )
    access, access_expires = issue_access_token(
        policy.access, user.id, user.role, now, session_version=user.session_version
    )
    return IssuedTokens(user, access, access_expires, refresh, refresh_expires)


def _locked_throttle(session: Session, username: str, now: datetime) -> LoginThrottle:
    # A no-op update on conflict: the row exists (and is ours to lock) even if a purge
    # removed it a moment ago.
    upsert(
        session,
        LoginThrottle,
        [{"username": username, "failures": 0, "window_started_at": now}],
        key=["username"],
        update=["username"],
    )
    statement = select(LoginThrottle).where(LoginThrottle.username == username).with_for_update()
    return session.exec(statement).one()


def _refuse_if_locked(throttle: LoginThrottle, now: datetime) -> None:
    if throttle.locked_until is not None and throttle.locked_until > now:
        raise TooManyLoginAttempts(int((throttle.locked_until - now).total_seconds()) + 1)


def _count_failure(throttle: LoginThrottle, policy: SignInPolicy, now: datetime) -> None:
    if now - throttle.window_started_at > policy.failure_window:
        throttle.failures, throttle.window_started_at = 0, now
    throttle.failures += 1
    if throttle.failures >= policy.max_failed_logins:
        throttle.locked_until = now + policy.lockout
        throttle.failures, throttle.window_started_at = 0, now


def log_in(
    session: Session, policy: SignInPolicy, username: str, password: str, now: datetime
) -> IssuedTokens:
    """Check the credentials and open a new token family, or count the failure."""
    throttle = _locked_throttle(session, username, now)
    _refuse_if_locked(throttle, now)
    user = find_user_by_username(session, username)
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        _count_failure(throttle, policy, now)
        raise InvalidCredentials()
    throttle.failures, throttle.locked_until = 0, None
    return _issue(session, policy, user, uuid.uuid4().hex, now)


def _revoke_family(session: Session, family_id: str, now: datetime) -> None:
    session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def refresh(session: Session, policy: SignInPolicy, token: str, now: datetime) -> IssuedTokens:
    """Rotate a refresh token; a reused (already rotated) one revokes its whole family."""
    statement = (
        select(RefreshToken).where(RefreshToken.token_hash == _digest(token)).with_for_update()
    )
    stored = session.exec(statement).first()
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise InvalidRefreshToken()
    if stored.rotated_at is not None:
        _revoke_family(session, stored.family_id, now)
        revoke_access(session, stored.user_id, SignOutReason.REFRESH_TOKEN_REUSED, now)
        raise InvalidRefreshToken(
            "This refresh token was already used; every session it started is now signed out."
        )
    user = session.get(User, stored.user_id)
    if user is None or not user.is_active:
        _revoke_family(session, stored.family_id, now)
        raise InvalidRefreshToken()
    stored.rotated_at = now
    return _issue(session, policy, user, stored.family_id, now)


def log_out(session: Session, token: str, now: datetime) -> bool:
    """Revoke the family of a refresh token and the user's access tokens (on every device:
    the others refresh theirs); true when there was a session to end."""
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
    ).first()
    if stored is None or stored.revoked_at is not None:
        return False
    _revoke_family(session, stored.family_id, now)
    revoke_access(session, stored.user_id, SignOutReason.LOGOUT, now)
    return True


def disable_user(session: Session, username: str, now: datetime) -> User:
    """Disable an account: it can no longer sign in, and every session it holds ends now
    (refresh families revoked, access tokens revoked, websockets closed)."""
    user = find_user_by_username(session, username)
    if user is None or user.id is None:
        raise UnknownUser(username)
    user.is_active = False
    session.add(user)
    session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user.id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    revoke_access(session, user.id, SignOutReason.USER_DISABLED, now)
    return user


def active_sessions(session: Session, user_id: int, now: datetime) -> int:
    return session.exec(
        select(sa.func.count())
        .select_from(RefreshToken)
        .where(
            RefreshToken.user_id == user_id,
            col(RefreshToken.revoked_at).is_(None),
            col(RefreshToken.rotated_at).is_(None),
            RefreshToken.expires_at > now,
        )
    ).one()


def purge_expired(session: Session, policy: SignInPolicy, now: datetime) -> int:
    """Forget expired refresh tokens and throttles that no longer hold anything back."""
    tokens = session.exec(delete(RefreshToken).where(col(RefreshToken.expires_at) < now))
    throttles = session.exec(
        delete(LoginThrottle).where(
            col(LoginThrottle.window_started_at) < now - policy.failure_window,
            sa.or_(
                col(LoginThrottle.locked_until).is_(None), col(LoginThrottle.locked_until) < now
            ),
        )
    )
    return int(tokens.rowcount or 0) + int(throttles.rowcount or 0)
