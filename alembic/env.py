"""Alembic environment: migrates the database named by DATABASE_URL (or -x url=...)."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

from alembic import context
from app.db import make_engine, migration_transaction
from app.settings import get_settings
from domain import registry  # noqa: F401 - loads every table into SQLModel.metadata
from domain.rates import PercentRate
from domain.tables import UTCDateTime

target_metadata = SQLModel.metadata


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or get_settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, PercentRate):
        return "sa.BigInteger()"
    if type_ == "type" and type(obj).__name__ == "AutoString":
        length = getattr(obj, "length", None)
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(_url(), pool_size=1)
        try:
            with migration_transaction(engine) as connection:
                _run(connection)
        finally:
            engine.dispose()
    else:
        _run(connectable)


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
