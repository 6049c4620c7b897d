"""On first start with LENDGRAPH_SEED_DIR, the seed files are imported once, in order."""

import time
from pathlib import Path

from sqlmodel import func, select

from app.asgi import create_app
from app.migrations import migrate
from domain.customers import Customer
from domain.importing_runs import ImportRun
from domain.loans import Loan
from integrations.sample_files import generate_sample
from tests.conftest import make_settings
from tests.live_server import LiveServer


def _counts(server: LiveServer) -> tuple[int, int, int]:
    with server.runtime.session_factory() as session:
        return (
            session.exec(select(func.count()).select_from(Customer)).one(),
            session.exec(select(func.count()).select_from(Loan)).one(),
            session.exec(select(func.count()).select_from(ImportRun)).one(),
        )


def test_an_empty_database_is_seeded_once_from_the_seed_folder(tmp_path: Path) -> None:
    generate_sample(tmp_path / "seed", customers=40, loans=90, transactions=300)
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    migrate(url)
    settings = make_settings(url, LENDGRAPH_SEED_DIR=str(tmp_path / "seed"))
    with LiveServer(create_app(settings)) as server:
        deadline = time.monotonic() + 60
        while _counts(server)[2] < 3 and time.monotonic() < deadline:
            server.settle()
            time.sleep(0.1)
        assert _counts(server) == (40, 90, 3)
    with LiveServer(create_app(settings)) as again:  # not empty any more: no second seeding
        again.settle()
        assert _counts(again) == (40, 90, 3)
