"""A simulator of the external scoring engine (RULES.md §3): it pulls a customer's CBS
transaction records from the registered platform and scores them deterministically."""

from __future__ import annotations

import asyncio
import functools
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

MODES = ("ok", "down", "garbled")
PULL_TIMEOUT_SECONDS = 10.0
BOUNCED_CHEQUES_EXCLUDED_FROM = 3
NO_EXCLUSION = "No Exclusion"

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class RegisteredClient:
    id: int
    url: str
    name: str
    username: str
    password: str
    token: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "name": self.name,
            "username": self.username,
            "password": self.password,
            "token": self.token,
        }


@dataclass
class ScoreJob:
    score: dict[str, Any]
    queries: int = 0


@dataclass
class EngineState:
    not_ready_attempts: int
    mode: str = "ok"
    delay_seconds: float = 0.0
    clients: dict[str, RegisteredClient] = field(default_factory=dict)
    jobs: dict[str, ScoreJob] = field(default_factory=dict)
    client_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    score_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    initiated: int = 0
    queried: int = 0
    pulls: list[str] = field(default_factory=list)

    def control_json(self) -> dict[str, Any]:
        return {
            "notReadyAttempts": self.not_ready_attempts,
            "mode": self.mode,
            "delaySeconds": self.delay_seconds,
            "initiated": self.initiated,
            "queried": self.queried,
            "pulls": list(self.pulls),
        }


def create_scoring_simulator(not_ready_attempts: int = 1) -> Starlette:
    app = Starlette(
        routes=[
            Route("/api/v1/client/createClient", create_client, methods=["POST"]),
            Route(
                "/api/v1/scoring/initiateQueryScore/{customerNumber}",
                initiate_query_score,
                methods=["GET"],
            ),
            Route("/api/v1/scoring/queryScore/{token}", query_score, methods=["GET"]),
            Route("/_control", read_control, methods=["GET"]),
            Route("/_control", change_control, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
    app.state.engine = EngineState(not_ready_attempts=not_ready_attempts)
    return app


def score_transactions(customer_number: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The engine's decision, without the running `id`; raises ValueError on unusable records."""
    if not records:
        return _score(customer_number, 300, 0, "No Data", "No transaction records")
    balance = _mean(records, "monthlyBalance")
    credit = _mean(records, "credittransactionsAmount")
    score = min(max(300 + _floor(balance / 1000), 300), 900)
    limit = _floor(credit * Decimal("0.5") / 1000) * 1000
    bounced = sum(_number(record, "bouncedChequesDebitNumber") for record in records)
    if bounced >= BOUNCED_CHEQUES_EXCLUDED_FROM:
        reason = "3 or more bounced cheques in the statement period"
        return _score(customer_number, score, limit, "Bounced Cheques", reason)
    return _score(customer_number, score, limit, NO_EXCLUSION, NO_EXCLUSION)


def _score(number: str, score: int, limit: int, exclusion: str, reason: str) -> dict[str, Any]:
    return {
        "customerNumber": number,
        "score": score,
        "limitAmount": limit,
        "exclusion": exclusion,
        "exclusionReason": reason,
    }


def _number(record: dict[str, Any], name: str) -> Decimal:
    # An absent aggregate means the CBS recorded nothing of that kind for the period.
    value = record.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} is not a number")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{name} is not a finite number")
    return number


def _mean(records: list[dict[str, Any]], name: str) -> Decimal:
    return sum((_number(record, name) for record in records), Decimal(0)) / len(records)


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _engine(request: Request) -> EngineState:
    state: EngineState = request.app.state.engine
    return state


def engine_call(endpoint: Endpoint) -> Endpoint:
    """Applies the control knobs (delay, down) every engine API call is subject to."""

    @functools.wraps(endpoint)
    async def controlled(request: Request) -> Response:
        state = _engine(request)
        if state.delay_seconds > 0:
            await asyncio.sleep(state.delay_seconds)
        if state.mode == "down":
            return JSONResponse({"error": "scoring engine down"}, status_code=503)
        return await endpoint(request)

    return controlled


def _known_client(request: Request) -> RegisteredClient | None:
    return _engine(request).clients.get(request.headers.get("client-token", ""))


def _unauthorized() -> Response:
    return JSONResponse({"error": "unknown client-token"}, status_code=401)


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@engine_call
async def create_client(request: Request) -> Response:
    body = await _json_body(request)
    fields = ("url", "name", "username", "password")
    if body is None or not all(isinstance(body.get(f), str) and body[f] for f in fields):
        return JSONResponse({"error": f"{', '.join(fields)} are required"}, status_code=400)
    state = _engine(request)
    client = RegisteredClient(
        id=next(state.client_ids),
        url=body["url"],
        name=body["name"],
        username=body["username"],
        password=body["password"],
        token=secrets.token_hex(16),
    )
    state.clients[client.token] = client
    return JSONResponse(client.as_json())


async def _pull_records(client: RegisteredClient, customer_number: str) -> Any:
    """The platform's JSON answer, or an error Response for initiate to pass on."""
    url = f"{client.url.rstrip('/')}/{quote(customer_number, safe='')}"
    auth = httpx.BasicAuth(client.username, client.password)
    try:
        async with httpx.AsyncClient(timeout=PULL_TIMEOUT_SECONDS, auth=auth) as http:
            response = await http.get(url)
    except (httpx.HTTPError, httpx.InvalidURL):
        return JSONResponse({"error": "platform unreachable"}, status_code=502)
    if response.status_code == 404:
        return JSONResponse({"error": "unknown customer"}, status_code=404)
    if response.status_code != 200:
        error = f"platform answered HTTP {response.status_code}"
        return JSONResponse({"error": error}, status_code=502)
    try:
        return response.json()
    except ValueError:
        return JSONResponse({"error": "platform answered with invalid JSON"}, status_code=502)


@engine_call
async def initiate_query_score(request: Request) -> Response:
    client = _known_client(request)
    if client is None:
        return _unauthorized()
    state = _engine(request)
    state.initiated += 1
    customer_number = request.path_params["customerNumber"]
    state.pulls.append(customer_number)
    records = await _pull_records(client, customer_number)
    if isinstance(records, Response):
        return records
    try:
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError("not a list of transaction records")
        score = score_transactions(customer_number, records)
    except ValueError:
        return JSONResponse({"error": "platform sent unusable records"}, status_code=502)
    token = secrets.token_hex(16)
    state.jobs[token] = ScoreJob(score={"id": next(state.score_ids), **score})
    return PlainTextResponse(token)


@engine_call
async def query_score(request: Request) -> Response:
    if _known_client(request) is None:
        return _unauthorized()
    state = _engine(request)
    if state.mode == "garbled":
        return PlainTextResponse("<html>scoring engine error", status_code=200)
    job = state.jobs.get(request.path_params["token"])
    if job is None:
        return JSONResponse({"error": "unknown token"}, status_code=404)
    state.queried += 1
    job.queries += 1
    # The real engine scores in the background; the first answers say "not yet".
    if job.queries <= state.not_ready_attempts:
        return JSONResponse({"status": "NOT_READY"}, status_code=202)
    return JSONResponse(job.score)


async def read_control(request: Request) -> Response:
    return JSONResponse(_engine(request).control_json())


def _control_changes(body: dict[str, Any]) -> dict[str, Any] | None:
    """The valid knob settings in a control request, or None when any is invalid."""
    attempts = body.get("notReadyAttempts", 0)
    delay = body.get("delaySeconds", 0.0)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
        return None
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        return None
    if body.get("mode", "ok") not in MODES:
        return None
    renamed = {"notReadyAttempts": "not_ready_attempts", "delaySeconds": "delay_seconds"}
    return {
        renamed.get(key, key): body[key]
        for key in ("notReadyAttempts", "mode", "delaySeconds")
        if key in body
    }


async def change_control(request: Request) -> Response:
    body = await _json_body(request)
    changes = None if body is None else _control_changes(body)
    if changes is None:
        return JSONResponse({"error": "invalid control settings"}, status_code=400)
    state = _engine(request)
    for name, value in changes.items():
        setattr(state, name, float(value) if name == "delay_seconds" else value)
    return JSONResponse(state.control_json())


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})
