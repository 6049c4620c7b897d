"""The external scoring engine over REST: Lendgraph's `ScoringEngine` port spoken as the
engine's JSON API (`createClient`, `initiateQueryScore`, `queryScore`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from domain.scoring.external import (
    ScoreReport,
    ScoringClient,
    ScoringClientRejected,
    ScoringEngineUnavailable,
)

# httpx raises a few errors outside its HTTPError tree; none of them may reach the domain.
_TRANSPORT_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)
_BAD_FIELD = (KeyError, TypeError, ValueError, ArithmeticError)


class HttpScoringEngine:
    """Every failure becomes ScoringEngineUnavailable or ScoringClientRejected.

    A 404 at initiate also means unavailable ("customer unknown to the platform"): Lendgraph
    only asks for customers it knows, so the engine and the platform disagree.
    """

    def __init__(
        self, base_url: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout), transport=transport
        )

    def register(self, url: str, name: str, username: str, password: str) -> ScoringClient:
        body = {"url": url, "name": name, "username": username, "password": password}
        response = self._send("createClient", "POST", "/api/v1/client/createClient", json=body)
        _require_ok("createClient", response)
        answer = _json_object("createClient", response)
        try:
            return ScoringClient(id=int(answer["id"]), token=_text(answer["token"]))
        except _BAD_FIELD:
            raise ScoringEngineUnavailable("createClient answered without id and token") from None

    def initiate(self, customer_number: str, client_token: str) -> str:
        path = f"/api/v1/scoring/initiateQueryScore/{quote(customer_number, safe='')}"
        response = self._send("initiateQueryScore", "GET", path, client_token=client_token)
        if response.status_code == 404:
            raise ScoringEngineUnavailable("customer unknown to the platform")
        _require_ok("initiateQueryScore", response)
        token = _plain_token(response.text)
        if not token:
            raise ScoringEngineUnavailable("initiateQueryScore answered without a token")
        return token

    def query(self, token: str, client_token: str) -> ScoreReport | None:
        path = f"/api/v1/scoring/queryScore/{quote(token, safe='')}"
        response = self._send("queryScore", "GET", path, client_token=client_token)
        # The engine scores asynchronously; these answers mean "ask again later".
        if response.status_code in (202, 404):
            return None
        _require_ok("queryScore", response)
        answer = _json_object("queryScore", response)
        if answer.get("score") is None:
            return None
        return _score_report(answer)

    def close(self) -> None:
        self._http.close()

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        client_token: str | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"client-token": client_token} if client_token is not None else {}
        try:
            response = self._http.request(method, path, headers=headers, json=json)
        except httpx.TimeoutException:
            raise ScoringEngineUnavailable(f"{operation} timed out") from None
        except _TRANSPORT_ERRORS as error:
            raise ScoringEngineUnavailable(f"{operation} failed: {type(error).__name__}") from None
        if response.status_code in (401, 403):
            raise ScoringClientRejected()
        return response


def _require_ok(operation: str, response: httpx.Response) -> None:
    if response.status_code != 200:
        raise ScoringEngineUnavailable(f"{operation} answered HTTP {response.status_code}")


def _json_object(operation: str, response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        raise ScoringEngineUnavailable(f"{operation} answered with invalid JSON") from None
    if not isinstance(answer, dict):
        raise ScoringEngineUnavailable(f"{operation} answered with unexpected JSON")
    return answer


def _plain_token(text: str) -> str:
    token = text.strip()
    if token.startswith('"'):
        # Some engine builds JSON-encode the token string.
        try:
            decoded = json.loads(token)
        except ValueError:
            return token.strip('"').strip()
        return decoded.strip() if isinstance(decoded, str) else ""
    return token


def _text(value: object) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise ValueError("not a text value")
    return str(value)


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("not a number")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _whole_number(value: object) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


MAX_SCORE = 100_000  # far above any real scale; beyond it the answer is garbage
MAX_LIMIT = Decimal(10) ** 13


def _bounded(value: int | Decimal, high: int | Decimal) -> Any:
    if not 0 <= value <= high:
        raise ValueError("out of range")
    return value


def _score_report(answer: dict[str, Any]) -> ScoreReport:
    """The score; the exclusion reason may be empty or missing (nothing to explain)."""
    try:
        return ScoreReport(
            customer_number=_text(answer["customerNumber"]),
            score=_bounded(_whole_number(answer["score"]), MAX_SCORE),
            limit_amount=_bounded(_decimal(answer["limitAmount"]), MAX_LIMIT),
            exclusion=_text(answer["exclusion"]),
            exclusion_reason=str(answer.get("exclusionReason") or ""),
        )
    except _BAD_FIELD:
        raise ScoringEngineUnavailable("queryScore answered with missing or bad fields") from None
