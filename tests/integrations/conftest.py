"""The external-scoring world (CBS and scoring engine simulators, a Lendgraph server), once
per module and backend, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import assert_ledger_balances
from tests.integrations.scoring_world import ScoringWorld, scoring_world


@pytest.fixture(scope="module")
def world_server(database_url: str) -> Iterator[ScoringWorld]:
    with scoring_world(database_url) as world:
        yield world


@pytest.fixture
def world(world_server: ScoringWorld) -> Iterator[ScoringWorld]:
    world_server.reset()
    yield world_server
    assert_ledger_balances(world_server.lendgraph.runtime.engine)
