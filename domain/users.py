"""Users: the people (and roles) who sign in to Lendgraph.

A user's access tokens hold while the account is active, its role unchanged and its session
version the one they were issued at: a sign-out moves the version on, ending them all."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select, update

from domain.errors import FieldProblem, InvalidInput, UsernameTaken
from domain.outbox import emit_event
from domain.pagination import Page, page_by_id
from domain.passwords import hash_password
from domain.tables import timestamp_column, utcnow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
MIN_PASSWORD_LENGTH = 10


class Role(enum.StrEnum):
    """What a user may do (RULES.md §0, Roles)."""

    CUSTOMER = "CUSTOMER"
    PROVIDER = "PROVIDER"
    STAFF = "STAFF"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=sa.Enum(Role, name="user_role", native_enum=False, length=16))
    is_active: bool = Field(default=True)
    # Every access token carries the version it was issued at; signing out moves it on.
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


def validate_new_user(username: str, password: str) -> None:
    problems = []
    if not USERNAME_PATTERN.match(username):
        problems.append(FieldProblem("username", "3-64 letters, digits or . _ @ - (no spaces)"))
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(FieldProblem("password", f"at least {MIN_PASSWORD_LENGTH} characters"))
    if problems:
        raise InvalidInput(problems)


def create_user(session: Session, username: str, password: str, role: Role) -> User:
    """Register a user with a hashed password; usernames are unique (case-sensitive)."""
    validate_new_user(username, password)
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise UsernameTaken(username)
    user = User(username=username, password_hash=hash_password(password), role=role)
    try:
        with session.begin_nested():  # a concurrent sign-up may take the name first
            session.add(user)
            session.flush()
    except IntegrityError:
        raise UsernameTaken(username) from None
    return user


def find_user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


ACCESS_REVOKED = "accessRevoked"  # event topic: a user's access tokens stopped holding


class SignOutReason(enum.StrEnum):
    """Why a user's access tokens were revoked (in the `accessRevoked` event and logs)."""

    LOGOUT = "LOGOUT"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # noqa: S105 - a reason, not a secret
    USER_DISABLED = "USER_DISABLED"


@dataclass(frozen=True)
class SignInState:
    """What an access token is checked against on every request: its user's row, as of now."""

    is_active: bool
    role: Role
    session_version: int

    def admits(self, role: Role, session_version: int) -> bool:
        """A token outlives nothing: not a disabled account, a changed role or a sign-out."""
        return self.is_active and self.role is role and self.session_version == session_version


def sign_in_state(session: Session, user_id: int) -> SignInState | None:
    """The user's sign-in state (one primary-key lookup), or None if there is no such user."""
    user = session.get(User, user_id)
    if user is None:
        return None
    return SignInState(user.is_active, user.role, user.session_version)


def revoke_access(session: Session, user_id: int, reason: SignOutReason, now: datetime) -> int:
    """End every access token the user holds, on every device: their session version moves
    on, and `accessRevoked` tells each process to stop trusting what it remembered and to
    close the user's websockets. Returns the new version (tokens issued from now carry it)."""
    version: int = session.exec(
        update(User)
        .where(col(User.id) == user_id)
        .values(session_version=User.session_version + 1)
        .returning(col(User.session_version))
    ).scalar_one()
    emit_event(
        session,
        ACCESS_REVOKED,
        userId=user_id,
        sessionVersion=version,
        reason=reason.value,
        occurredAt=now.isoformat(),
    )
    return version


def users_page(session: Session, first: int, after: int | None) -> Page[User]:
    return page_by_id(session, select(User), User.id, first, after)


def visible_users(
    session: Session, viewer_id: int, viewer_role: Role, ids: list[int]
) -> dict[int, User]:
    """Staff see every user; anyone else only themself."""
    if viewer_role is not Role.STAFF:
        ids = [i for i in ids if i == viewer_id]
    return users_by_ids(session, ids)


def users_by_ids(session: Session, ids: list[int]) -> dict[int, User]:
    if not ids:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(ids))).all()
    return {u.id: u for u in rows if u.id is not None}
