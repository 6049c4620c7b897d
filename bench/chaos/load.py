"""The load a fault is applied under: clients paying over HTTP as a careful client would
(the same idempotency key again on anything that says retry, until acknowledged or out of
patience), and staff websocket subscribers counting the paymentReceived events they hear."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

PAY = (
    "mutation Pay($input: MakePaymentInput!) { makePayment(input: $input) "
    "{ __typename ... on Payment { id } ... on Error { code } } }"
)
PAYMENTS = "subscription { paymentReceived { loanNumber sequence } }"
RETRY_PAUSE = 0.5


@dataclass
class Attempt:
    """One try of one payment: acknowledged, refused (for good), or worth trying again."""

    acknowledged: bool = False
    retry: bool = False
    error: str | None = None


def _answer(response: httpx.Response) -> Attempt:
    if response.status_code == 503:
        return Attempt(retry=True, error="HTTP 503")
    try:
        body = response.json()
    except ValueError:
        return Attempt(error=f"HTTP {response.status_code}, not JSON")
    errors = body.get("errors") or []
    if errors:
        if all((e.get("extensions") or {}).get("retryable") for e in errors):
            return Attempt(retry=True, error=errors[0]["extensions"].get("code"))
        return Attempt(error=str((errors[0].get("extensions") or {}).get("code", errors[0])))
    result = body["data"]["makePayment"]
    if result["__typename"] == "Payment":
        return Attempt(acknowledged=True)
    return Attempt(error=result.get("code", result["__typename"]))


@dataclass
class Payments:
    """What the clients of one fault saw, by idempotency key."""

    acknowledged: dict[str, float] = field(default_factory=dict)  # key -> monotonic time
    gave_up: dict[str, str] = field(default_factory=dict)  # key -> the last error
    retried: Counter[str] = field(default_factory=Counter)  # error -> tries repeated


class Payers:
    """`clients` threads, each paying 10.00 at a time on its own loan until stopped."""

    def __init__(self, base_url: str, token: str, loans: list[str], prefix: str, patience: float):
        self.seen = Payments()
        self._base, self._token, self._loans = base_url, token, loans
        self._prefix, self._patience = prefix, patience
        self._stop, self._lock = threading.Event(), threading.Lock()
        self._threads = [
            threading.Thread(target=self._pay, args=(n,), daemon=True) for n in range(len(loans))
        ]

    def start(self) -> Payers:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> Payments:
        """No new payment starts; each client finishes (or gives up on) the one it is on."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self._patience + 30)
        return self.seen

    def _pay(self, client: int) -> None:
        headers = {"authorization": f"Bearer {self._token}"}
        with httpx.Client(base_url=self._base, headers=headers, timeout=15) as http:
            for n in itertools.count(1):
                if self._stop.is_set():
                    return
                key = f"{self._prefix}{client:03d}-{n:06d}"
                request = {"loanId": self._loans[client], "amount": "10.00", "idempotencyKey": key}
                self._until_acknowledged(http, key, {"query": PAY, "variables": {"input": request}})

    def _until_acknowledged(self, http: httpx.Client, key: str, body: dict[str, Any]) -> None:
        deadline = time.monotonic() + self._patience
        while True:
            try:
                attempt = _answer(http.post("/graphql", json=body))
            except httpx.TransportError as error:
                attempt = Attempt(retry=True, error=type(error).__name__)
            with self._lock:
                if attempt.acknowledged:
                    self.seen.acknowledged[key] = time.monotonic()
                    return
                if not attempt.retry or time.monotonic() > deadline:
                    self.seen.gave_up[key] = str(attempt.error)
                    return
                self.seen.retried[str(attempt.error)] += 1
            time.sleep(RETRY_PAUSE)


class Subscriber:
    """One staff websocket subscribed to every payment, reconnecting when it ends. Notes
    each event once by (loan number, sequence), and every signal that events may have been
    missed: an error (EVENTS_MISSED, TOO_SLOW, ...), the end of the subscription, or a
    closed connection."""

    def __init__(self, base_url: str, token: str) -> None:
        self.url = base_url.replace("http://", "ws://") + "/graphql"
        self.heard: dict[tuple[str, int], float] = {}  # event -> monotonic time first heard
        self.duplicates = 0
        self.signals: list[tuple[float, str]] = []  # (monotonic time, what)
        self.subscribed_at: float | None = None
        self._token, self._stop, self._lock = token, threading.Event(), threading.Lock()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def events(self) -> dict[tuple[str, int], float]:
        """Every event heard so far, and when it was first heard."""
        with self._lock:
            return dict(self.heard)

    def start(self) -> Subscriber:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def continuous_since(self, moment: float) -> bool:
        """Subscribed since before `moment` without a signal since."""
        return (
            self.subscribed_at is not None
            and self.subscribed_at <= moment
            and not self.signals_since(moment)
        )

    def signals_since(self, moment: float) -> list[str]:
        return [what for at, what in self.signals if at >= moment]

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self.url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
                    self._subscribe(ws)
                    self._read(ws)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else "none"
                self._signal(f"connection closed ({code})")
            except (OSError, TimeoutError, InvalidHandshake) as error:
                self._signal(f"cannot connect ({type(error).__name__})")
            self._stop.wait(1)

    def _subscribe(self, ws: ClientConnection) -> None:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {self._token}"}}
        ws.send(json.dumps(init))
        if json.loads(ws.recv(timeout=10))["type"] != "connection_ack":
            raise ConnectionError("no connection_ack")
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PAYMENTS}}))

    def _read(self, ws: ClientConnection) -> None:
        self.subscribed_at = time.monotonic()
        while not self._stop.is_set():
            try:
                message = json.loads(ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            if message["type"] in ("ping", "pong"):
                if message["type"] == "ping":
                    ws.send(json.dumps({"type": "pong"}))
                continue
            payload = message.get("payload") or {}
            if message["type"] == "next" and not payload.get("errors"):
                event = payload["data"]["paymentReceived"]
                self._hear((str(event["loanNumber"]), int(event["sequence"])))
                continue
            errors = payload.get("errors") if message["type"] == "next" else payload
            codes = [(e.get("extensions") or {}).get("code") for e in errors or []]
            self._signal(f"{message['type']} {','.join(str(c) for c in codes)}".strip())
            return  # subscribe again on a new connection

    def _hear(self, key: tuple[str, int]) -> None:
        with self._lock:
            if key in self.heard:
                self.duplicates += 1
            else:
                self.heard[key] = time.monotonic()

    def _signal(self, what: str) -> None:
        if not self._stop.is_set():
            self.signals.append((time.monotonic(), what))
