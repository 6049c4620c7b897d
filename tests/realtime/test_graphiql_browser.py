"""Issue 9, done-when 4: headless Chromium (Debian's package) opens GraphiQL, runs a
subscription signed in from the headers pane, and shows an event when a payment is made.

GraphiQL's page loads its scripts from a CDN, which this network cannot reach: the test
serves the same npm packages itself and points GRAPHIQL_ASSETS_URL at them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from app.asgi import create_app
from tests.api.test_loans import apply
from tests.api.test_payments_api import customer, pay
from tests.conftest import make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, LiveServer
from tests.realtime.test_resilience import _login
from tests.services import IN_CI

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed here when missing (the machine allows apt as root)."""
    if not CHROMIUM.exists() and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        for refresh in (False, True):  # the package lists may be stale: update, try again
            if refresh:
                subprocess.run(["apt-get", "update"], check=False, capture_output=True, env=env)
            done = subprocess.run(install, check=False, capture_output=True, env=env)
            if done.returncode == 0:
                break
    if not CHROMIUM.exists():
        (pytest.fail if IN_CI else pytest.skip)("Debian's chromium package is not installed")
    return CHROMIUM


class _Assets(SimpleHTTPRequestHandler):
    """node_modules as a CDN would serve it: /name@version/path, with CORS."""

    def translate_path(self, path: str) -> str:
        parts = path.split("?", maxsplit=1)[0].lstrip("/").split("/")
        at = 1 if parts and parts[0].startswith("@") else 0  # scoped: @scope/name@1.0
        if len(parts) > at:
            parts[at] = parts[at].rsplit("@", 1)[0] if "@" in parts[at][1:] else parts[at]
        return str(Path(self.directory) / "/".join(parts))

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def assets(node_client: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Assets, directory=str(node_client.parent / "node_modules"))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
def graphiql_server(sqlite_url: str, assets: str) -> Iterator[LiveServer]:
    app = create_app(make_settings(sqlite_url, GRAPHIQL_ASSETS_URL=assets))
    with LiveServer(app) as live:
        empty_all_tables(live.runtime.engine)
        yield live


def test_graphiql_shows_a_subscription_event(
    chromium: Path,
    node_client: Path,
    graphiql_server: LiveServer,
) -> None:
    server = graphiql_server
    client = GraphQLClient(server.url)
    try:
        asha = customer(client, _login(client), "asha", "+919800000001")
        loan = apply(
            client,
            asha,
            "browser-loan-1",
            productCode="PERSONAL_EMI",
            amount="50000",
            interestRate="14",
            tenure=6,
        )["loan"]
        query = "subscription { paymentReceived { loanNumber amount { amount } } }"
        headers = json.dumps({"Authorization": f"Bearer {asha}"})
        url = f"{server.url}/graphql?q={quote(query)}&headers={quote(headers)}"
        script = node_client.parent / "browser.mjs"
        browser = subprocess.Popen(
            ["node", str(script), url, str(chromium), "1234.00"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert browser.stdout is not None
        lines = []
        for line in browser.stdout:
            lines.append(line.strip())
            if line.startswith(("running", "failed")):
                break
        assert lines[-1] == "running", lines
        pay(client, asha, loan["id"], "1234", "browser-pay-1")
        rest, _ = browser.communicate(timeout=60)
        lines += rest.splitlines()
        assert browser.returncode == 0, lines
        assert any(line.startswith("event") and "1234.00" in line for line in lines), lines
    finally:
        client.close()
