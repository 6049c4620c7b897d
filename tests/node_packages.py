"""Real clients from npm for the tests that drive the API with them: Node.js and npm are
needed; locally a missing one skips those tests, in CI (CI=true) it fails them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.services import IN_CI


def install_npm_packages(source: Path, files: Iterable[str], folder: Path) -> Path:
    """Copies package.json and `files` from `source` into `folder`, runs `npm install` there
    (the versions pinned in package.json) and returns `folder`."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        (pytest.fail if IN_CI else pytest.skip)("Node.js and npm are not installed")
    for name in ("package.json", *files):
        shutil.copy(source / name, folder / name)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder
