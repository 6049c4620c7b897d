"""Demo data for `make run`: loaded once, so a newcomer can sign in straight away."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.settings import Settings
from domain.users import Role, create_user, find_user_by_username


@dataclass(frozen=True)
class DemoReport:
    created: list[str]
    credentials: list[tuple[str, str, str]]  # (role, username, password)


def load_demo_data(session_factory: sessionmaker[Session], settings: Settings) -> DemoReport:
    """Create what is missing; running it again changes nothing."""
    created = []
    with session_factory() as session:
        if find_user_by_username(session, settings.demo_username) is None:
            create_user(session, settings.demo_username, settings.demo_password, Role.STAFF)
            created.append(f"staff user {settings.demo_username}")
        session.commit()
    return DemoReport(
        created=created,
        credentials=[("STAFF", settings.demo_username, settings.demo_password)],
    )
