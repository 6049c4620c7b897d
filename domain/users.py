"""Users: the people (and roles) who sign in to Lendgraph."""

from __future__ import annotations

import enum
import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from domain.errors import FieldProblem, InvalidInput, UsernameTaken
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


def is_signed_in(session: Session, user_id: int, role: Role) -> bool:
    """A token outlives nothing: a disabled user, or one whose role changed, is signed out."""
    user = session.get(User, user_id)
    return user is not None and user.is_active and user.role is role


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
