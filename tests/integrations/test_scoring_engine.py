"""The scoring engine REST adapter against the engine simulator, over real sockets; a small
fake platform serves the CBS transaction records the engine pulls."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.scoring.external import (
    ScoreReport,
    ScoringClientRejected,
    ScoringEngineUnavailable,
)
from integrations.scoring_engine import HttpScoringEngine
from integrations.simulators.scoring import create_scoring_simulator
from tests.live_server import LiveServer, free_port

PLATFORM_USER = "lendgraph"
PLATFORM_PASSWORD = "platform-secret"
GOOD_CUSTOMER = "234774784"
BOUNCING_CUSTOMER = "318411216"
NEW_CUSTOMER = "340397370"


def record(balance: float, credit: float, bounced: int = 0) -> dict[str, Any]:
    return {
        "monthlyBalance": balance,
        "credittransactionsAmount": credit,
        "bouncedChequesDebitNumber": bounced,
        "bouncedchequescreditNumber": 0,
        "debittransactionsAmount": 1000.0,
    }


TRANSACTIONS = {
    # mean monthlyBalance 264500 -> score 564; mean credit 60000 -> limit 30000
    GOOD_CUSTOMER: [record(250000.0, 50000.0), record(279000.0, 70000.0)],
    BOUNCING_CUSTOMER: [record(100000.0, 20000.0, bounced=2), record(100000.0, 20000.0, 1)],
    NEW_CUSTOMER: [],
}


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def create_fake_platform() -> Starlette:
    async def transactions(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        request.app.state.authorizations.append(authorization)
        if authorization != basic(PLATFORM_USER, PLATFORM_PASSWORD):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        records = TRANSACTIONS.get(request.path_params["customerNumber"])
        if records is None:
            return JSONResponse({"error": "unknown customer"}, status_code=404)
        return JSONResponse(records)

    app = Starlette(routes=[Route("/scoring/transactions/{customerNumber}", transactions)])
    app.state.authorizations = []
    return app


@pytest.fixture
def platform() -> Iterator[LiveServer]:
    with LiveServer(create_fake_platform()) as server:
        yield server


@pytest.fixture
def engine_server() -> Iterator[LiveServer]:
    with LiveServer(create_scoring_simulator(not_ready_attempts=0)) as server:
        yield server


@pytest.fixture
def engine(engine_server: LiveServer) -> Iterator[HttpScoringEngine]:
    client = HttpScoringEngine(engine_server.url, timeout=2.0)
    yield client
    client.close()


def control(server: LiveServer, **settings: Any) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/_control", json=settings)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def register(engine: HttpScoringEngine, platform: LiveServer, password: str = "") -> str:
    client = engine.register(
        url=f"{platform.url}/scoring/transactions",
        name="Lendgraph",
        username=PLATFORM_USER,
        password=password or PLATFORM_PASSWORD,
    )
    return client.token


def score_of(engine: HttpScoringEngine, customer_number: str, client_token: str) -> ScoreReport:
    token = engine.initiate(customer_number, client_token)
    report = engine.query(token, client_token)
    assert report is not None
    return report


def test_registration_returns_the_client_id_and_a_token(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    client = engine.register(f"{platform.url}/scoring/transactions", "Lendgraph", "u", "p")

    assert client.id >= 1
    assert len(client.token) >= 16


def test_registering_again_gives_a_new_token_and_keeps_the_old_one_valid(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    first = register(engine, platform)
    second = register(engine, platform)

    assert first != second
    assert score_of(engine, GOOD_CUSTOMER, first).score == 564
    assert score_of(engine, GOOD_CUSTOMER, second).score == 564


def test_initiate_pulls_from_the_registered_url_with_the_registered_basic_credentials(
    engine: HttpScoringEngine, engine_server: LiveServer, platform: LiveServer
) -> None:
    client_token = register(engine, platform)

    engine.initiate(GOOD_CUSTOMER, client_token)

    assert platform.app.state.authorizations == [basic(PLATFORM_USER, PLATFORM_PASSWORD)]
    assert control(engine_server)["pulls"] == [GOOD_CUSTOMER]


def test_score_limit_and_exclusion_are_derived_from_the_pulled_transactions(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    report = score_of(engine, GOOD_CUSTOMER, register(engine, platform))

    assert report == ScoreReport(
        customer_number=GOOD_CUSTOMER,
        score=564,
        limit_amount=Decimal("30000"),
        exclusion="No Exclusion",
        exclusion_reason="No Exclusion",
    )


def test_three_bounced_cheques_exclude_the_customer(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    report = score_of(engine, BOUNCING_CUSTOMER, register(engine, platform))

    assert report.exclusion == "Bounced Cheques"
    assert report.exclusion_reason == "3 or more bounced cheques in the statement period"
    assert (report.score, report.limit_amount) == (400, Decimal("10000"))


def test_customer_without_transactions_scores_the_floor_with_no_data(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    report = score_of(engine, NEW_CUSTOMER, register(engine, platform))

    assert (report.score, report.limit_amount) == (300, Decimal("0"))
    assert (report.exclusion, report.exclusion_reason) == ("No Data", "No transaction records")


def test_query_answers_none_until_the_score_is_ready(
    engine: HttpScoringEngine, engine_server: LiveServer, platform: LiveServer
) -> None:
    control(engine_server, notReadyAttempts=3)
    client_token = register(engine, platform)
    token = engine.initiate(GOOD_CUSTOMER, client_token)

    answers = [engine.query(token, client_token) for _ in range(4)]

    assert answers[:3] == [None, None, None]
    assert answers[3] is not None and answers[3].score == 564
    assert control(engine_server)["queried"] == 4


def test_unknown_score_token_reads_as_not_ready(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    assert engine.query("no-such-token", register(engine, platform)) is None


def test_unknown_client_token_is_rejected(engine: HttpScoringEngine) -> None:
    with pytest.raises(ScoringClientRejected):
        engine.initiate(GOOD_CUSTOMER, "not-registered")
    with pytest.raises(ScoringClientRejected):
        engine.query("any-token", "not-registered")


def test_unknown_customer_at_initiate_makes_the_engine_unavailable(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    with pytest.raises(ScoringEngineUnavailable) as raised:
        engine.initiate("999999999", register(engine, platform))

    assert raised.value.detail == "customer unknown to the platform"


def test_platform_refusing_the_engines_credentials_makes_the_engine_unavailable(
    engine: HttpScoringEngine, platform: LiveServer
) -> None:
    client_token = register(engine, platform, password="wrong")

    with pytest.raises(ScoringEngineUnavailable, match="HTTP 502"):
        engine.initiate(GOOD_CUSTOMER, client_token)


def test_engine_on_a_closed_port_is_unavailable_quickly() -> None:
    engine = HttpScoringEngine(f"http://127.0.0.1:{free_port()}", timeout=2.0)
    started = time.monotonic()

    with pytest.raises(ScoringEngineUnavailable):
        engine.register("http://platform", "Lendgraph", "u", "p")

    assert time.monotonic() - started < 1.0
    engine.close()


def test_engine_in_down_mode_is_unavailable(
    engine: HttpScoringEngine, engine_server: LiveServer, platform: LiveServer
) -> None:
    client_token = register(engine, platform)
    control(engine_server, mode="down")

    with pytest.raises(ScoringEngineUnavailable, match="HTTP 503"):
        engine.initiate(GOOD_CUSTOMER, client_token)


def test_engine_slower_than_the_client_timeout_is_unavailable(
    engine_server: LiveServer, platform: LiveServer
) -> None:
    impatient = HttpScoringEngine(engine_server.url, timeout=0.3)
    control(engine_server, delaySeconds=1.0)
    started = time.monotonic()

    with pytest.raises(ScoringEngineUnavailable, match="timed out"):
        register(impatient, platform)

    assert time.monotonic() - started < 0.9
    impatient.close()


def test_garbled_score_makes_the_engine_unavailable(
    engine: HttpScoringEngine, engine_server: LiveServer, platform: LiveServer
) -> None:
    client_token = register(engine, platform)
    token = engine.initiate(GOOD_CUSTOMER, client_token)
    control(engine_server, mode="garbled")

    with pytest.raises(ScoringEngineUnavailable, match="invalid JSON"):
        engine.query(token, client_token)


def test_registration_with_a_missing_field_is_refused_by_the_engine(
    engine_server: LiveServer,
) -> None:
    body = {"url": "http://platform", "name": "Lendgraph", "username": "u", "password": ""}

    response = httpx.post(f"{engine_server.url}/api/v1/client/createClient", json=body)

    assert response.status_code == 400


def test_control_reports_the_calls_the_engine_has_served(
    engine: HttpScoringEngine, engine_server: LiveServer, platform: LiveServer
) -> None:
    client_token = register(engine, platform)
    score_of(engine, GOOD_CUSTOMER, client_token)
    score_of(engine, NEW_CUSTOMER, client_token)

    state = control(engine_server)

    assert (state["initiated"], state["queried"]) == (2, 2)
    assert state["pulls"] == [GOOD_CUSTOMER, NEW_CUSTOMER]
    assert httpx.get(f"{engine_server.url}/healthz").status_code == 200


def answering(status: int, body: str) -> HttpScoringEngine:
    def reply(_: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=body)

    return HttpScoringEngine("http://engine", transport=httpx.MockTransport(reply))


def test_a_json_encoded_initiate_token_is_unquoted() -> None:
    assert answering(200, ' "abc123"\n').initiate(GOOD_CUSTOMER, "client") == "abc123"


def test_a_score_body_without_a_score_reads_as_not_ready() -> None:
    assert answering(200, '{"status": "PENDING"}').query("t", "client") is None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, '{"score": 564, "customerNumber": "1"}'),
        (
            200,
            '{"score": 564, "customerNumber": "1", "limitAmount": "lots",'
            ' "exclusion": "x", "exclusionReason": "y"}',
        ),
        (200, "[1, 2]"),
        (
            200,
            '{"score": 1e30, "customerNumber": "1", "limitAmount": 5, "exclusion": "x"}',
        ),
        (
            200,
            '{"score": 500, "customerNumber": "1", "limitAmount": -5, "exclusion": "x"}',
        ),
        (500, '{"error": "boom"}'),
        (400, '{"error": "bad"}'),
    ],
)
def test_a_broken_score_answer_makes_the_engine_unavailable(status: int, body: str) -> None:
    with pytest.raises(ScoringEngineUnavailable):
        answering(status, body).query("t", "client")


def test_limit_amount_is_parsed_exactly_as_a_decimal() -> None:
    body = (
        '{"id": 1, "customerNumber": "1", "score": 564, "limitAmount": 30000.1,'
        ' "exclusion": "No Exclusion", "exclusionReason": "No Exclusion"}'
    )

    report = answering(200, body).query("t", "client")

    assert report is not None and report.limit_amount == Decimal("30000.1")


def test_an_empty_or_missing_exclusion_reason_is_an_answer() -> None:
    body = '{"customerNumber": "1", "score": 564, "limitAmount": 100, "exclusion": "No Exclusion"'
    for tail in ("}", ', "exclusionReason": ""}', ', "exclusionReason": null}'):
        report = answering(200, body + tail).query("t", "client")
        assert report is not None and report.exclusion_reason == ""
