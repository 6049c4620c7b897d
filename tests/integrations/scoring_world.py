"""A whole external-scoring world over real sockets: the CBS simulator, the scoring engine
simulator and a Lendgraph server wired to both, with a staff sign-in and GraphQL helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from app.asgi import create_app
from domain.scoring.registration import CallbackCredentials, register_with_engine
from domain.tables import utcnow
from domain.users import Role, create_user
from integrations.cbs.simulator import create_cbs_simulator
from integrations.scoring_engine import HttpScoringEngine
from integrations.simulators.scoring import create_scoring_simulator
from tests.conftest import LOGIN, PASSWORD, make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, LiveServer

CBS_LOGIN = ("lendgraph", "cbs-test-password")
CALLBACK = CallbackCredentials("engine-reader", "callback-password-0123456789")

SUBSCRIBE = """
mutation Subscribe($number: String!, $username: String, $password: String) {
  subscribeCustomer(input: {customerNumber: $number, username: $username, password: $password}) {
    __typename
    ... on SubscribeCustomerSuccess { customer { id customerNumber firstName } }
    ... on Error { code message }
  }
}
"""
APPLY = """
mutation Apply($number: String, $amount: Decimal!, $key: String!) {
  applyForLoan(input: {productCode: "SCORED_MICRO", amount: $amount, customerNumber: $number,
                       idempotencyKey: $key}) {
    __typename
    ... on LoanApplication { id status }
    ... on Error { code message }
  }
}
"""
APPLICATION = """
query One($id: ID!) {
  node(id: $id) {
    ... on LoanApplication {
      status creditScore reasons { code message }
      externalScore { stage attempts score limit { amount currency } exclusion
                      exclusionReason lastError nextAttemptAt }
      loan { number status principal { amount } }
    }
  }
}
"""


@dataclass
class ScoringWorld:
    cbs: LiveServer
    engine: LiveServer
    lendgraph: LiveServer
    client: GraphQLClient
    staff_token: str = ""

    def control_cbs(self, **controls: Any) -> None:
        httpx.post(f"{self.cbs.url}/_control", json=controls).raise_for_status()

    def control_engine(self, **controls: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.engine.url}/_control", json=controls)
        response.raise_for_status()
        return self.engine_state()

    def engine_state(self) -> dict[str, Any]:
        return httpx.get(f"{self.engine.url}/_control").json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        """An empty database, a fresh registration with the engine, well-behaved simulators."""
        self.lendgraph.runtime.make_current()
        empty_all_tables(self.lendgraph.runtime.engine)
        self.control_cbs(mode="ok", delaySeconds=0)
        self.control_engine(mode="ok", delaySeconds=0, notReadyAttempts=0)
        with self.lendgraph.runtime.session_factory() as session:
            create_user(session, "staff", PASSWORD, Role.STAFF)
            register_with_engine(
                session,
                HttpScoringEngine(self.engine.url),
                engine_url=self.engine.url,
                public_url=self.lendgraph.url,
                credentials=CALLBACK,
                now=utcnow(),
            )
            session.commit()
        self.staff_token = self.sign_in("staff")

    def sign_in(self, username: str, password: str = PASSWORD) -> str:
        login = self.client.execute(LOGIN, {"username": username, "password": password})
        return str(login.data["login"]["accessToken"])

    def subscribe(self, number: str, **extra: Any) -> dict[str, Any]:
        result = self.client.execute(SUBSCRIBE, {"number": number, **extra}, self.staff_token)
        return result.data["subscribeCustomer"]  # type: ignore[no-any-return]

    def apply(self, number: str | None, amount: str, key: str, token: str = "") -> dict[str, Any]:
        variables = {"number": number, "amount": amount, "key": key}
        result = self.client.execute(APPLY, variables, token or self.staff_token)
        return result.data["applyForLoan"]  # type: ignore[no-any-return]

    def application(self, gid: str, token: str = "") -> dict[str, Any]:
        result = self.client.execute(APPLICATION, {"id": gid}, token or self.staff_token)
        return result.data["node"]  # type: ignore[no-any-return]

    def decided(self, gid: str, timeout: float = 20.0) -> dict[str, Any]:
        """Poll the application until it leaves PENDING, as a client screen would."""
        deadline = time.monotonic() + timeout
        while True:
            node = self.application(gid)
            if node["status"] != "PENDING" or time.monotonic() > deadline:
                return node
            time.sleep(0.05)


def scoring_settings(database_url: str, cbs_url: str, engine_url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "CBS_URL": cbs_url,
        "CBS_USERNAME": CBS_LOGIN[0],
        "CBS_PASSWORD": CBS_LOGIN[1],
        "CBS_TIMEOUT_SECONDS": 2,
        "SCORING_ENGINE_URL": engine_url,
        "SCORING_TIMEOUT_SECONDS": 3,
        "SCORING_RETRY_BASE_SECONDS": 0.02,
        "SCORING_OUTAGE_MAX_SECONDS": 0.2,
        "SCORING_CALLBACK_USERNAME": CALLBACK.username,
        "SCORING_CALLBACK_PASSWORD": CALLBACK.password,
    }
    return make_settings(database_url, **{**values, **overrides})


@contextmanager
def scoring_world(database_url: str, **overrides: Any) -> Iterator[ScoringWorld]:
    with (
        LiveServer(create_cbs_simulator(*CBS_LOGIN, generated=5)) as cbs,
        LiveServer(create_scoring_simulator(not_ready_attempts=0)) as engine,
    ):
        settings = scoring_settings(database_url, cbs.url, engine.url, **overrides)
        with LiveServer(create_app(settings)) as lendgraph:
            client = GraphQLClient(lendgraph.url)
            try:
                yield ScoringWorld(cbs, engine, lendgraph, client)
            finally:
                client.close()
