"""`lendgraph simulate` and `lendgraph scoring register` as a newcomer runs them: real
processes on real ports, then Lendgraph's own clients against them."""

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlmodel import Session, create_engine

from domain.scoring.registration import current_registration
from integrations.cbs.client import SoapCoreBanking
from tests.app.test_cli import LENDGRAPH, _run
from tests.live_server import free_port


@contextmanager
def _simulator(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([*LENDGRAPH, "simulate", *args], text=True)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_the_cbs_simulator_answers_soap_with_its_five_reference_customers() -> None:
    port = free_port()
    with _simulator("cbs", "--port", str(port), "--generated", "3"):
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url)
        cbs = SoapCoreBanking(url, "lendgraph", "cbs-dev-password", timeout=5)
        assert cbs.customer("234774784").first_name == "Wanjiru"
        assert cbs.customer("500000003").customer_number == "500000003"
        wsdl = httpx.get(f"{url}/service/transaction-data?wsdl").text
        assert f'location="{url}/service/transaction-data"' in wsdl
        assert cbs.transactions("234774784")  # at the reference WSDL's address


def test_scoring_register_keeps_the_engines_token(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'register.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SCORING_ENGINE_URL": f"http://127.0.0.1:{port}",
        "PUBLIC_URL": "http://lendgraph.example:8000",
    }
    assert _run(["migrate"], env).returncode == 0
    down = _run(["scoring", "register"], env)
    assert down.returncode == 1 and "could not be reached" in down.stderr
    with _simulator("scoring", "--port", str(port)):
        registered = _run(["scoring", "register", "--wait", "30"], env)
    assert registered.returncode == 0, registered.stderr
    with Session(create_engine(url)) as session:
        row = current_registration(session)
        assert row is not None and row.client_token
        assert row.callback_url == "http://lendgraph.example:8000/scoring/transactions"
        assert "$" in row.password_hash and "scoring-dev-password" not in row.password_hash
