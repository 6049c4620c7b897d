"""Issue 15, point 6: the GraphQL over HTTP reference audit (npm `graphql-http`, the
spec's own conformance suite) finds nothing to fix: no MUST and no SHOULD fails."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.asgi import create_app
from tests.conftest import make_settings
from tests.live_server import LiveServer
from tests.node_packages import install_npm_packages

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def audit_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = install_npm_packages(HERE, ("audit.mjs",), tmp_path_factory.mktemp("graphql-http"))
    return folder / "audit.mjs"


@pytest.fixture(scope="module")
def live_url(sqlite_url: str) -> Iterator[str]:
    # Development settings: several audits ask for `__type`, which production refuses
    # along with the rest of introspection.
    with LiveServer(create_app(make_settings(sqlite_url))) as live:
        yield f"{live.url}/graphql"


def _audit(script: Path, url: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", str(script), url], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_graphql_over_http_audit_finds_no_must_or_should_failure(
    audit_script: Path, live_url: str
) -> None:
    results = _audit(audit_script, live_url)
    counts = Counter(result["status"] for result in results)
    print("graphql-http audit:", dict(counts))  # ok / notice (a MAY not done) / warn / error
    failures = [r for r in results if r["status"] in ("error", "warn")]
    assert len(results) > 40, results  # the audit really ran
    assert not failures, "\n".join(f"{r['status']}: {r['name']} — {r['reason']}" for r in failures)
