"""What the real-time tests share: the npm packages of the real clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.node_packages import install_npm_packages

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def node_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """graphql-ws, playwright-core and GraphiQL's own packages from npm, installed into a
    temporary folder for this run; returns the graphql-ws client script."""
    folder = install_npm_packages(
        HERE, ("subscriber.mjs", "browser.mjs"), tmp_path_factory.mktemp("graphql-ws")
    )
    return folder / "subscriber.mjs"
