"""Running Alembic migrations from code (`lendgraph migrate`, tests, `make run`)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.cmd_opts = None
    config.attributes["url"] = database_url
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    config = alembic_config(database_url)
    from app.db import make_engine, migration_transaction

    engine = make_engine(database_url, pool_size=1)
    try:
        with migration_transaction(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
