"""What the real-time tests share: the npm packages of the real clients."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.services import IN_CI

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def node_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """graphql-ws, playwright-core and GraphiQL's own packages from npm, installed into a
    temporary folder for this run; returns the graphql-ws client script."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        (pytest.fail if IN_CI else pytest.skip)("Node.js and npm are not installed")
    folder = tmp_path_factory.mktemp("graphql-ws")
    for name in ("package.json", "subscriber.mjs", "browser.mjs"):
        shutil.copy(HERE / name, folder / name)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder / "subscriber.mjs"
