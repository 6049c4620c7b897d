"""Request ids: one per HTTP request or websocket, in logs, errors and the X-Request-ID header."""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = b"x-request-id"

log = structlog.get_logger("lendgraph.access")


def current_request_id() -> str:
    return REQUEST_ID.get() or uuid.uuid4().hex


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == HEADER:
            text = value.decode("latin-1")
            return text if _ACCEPTABLE.match(text) else None
    return None


class RequestIdMiddleware:
    """Assigns the request id (trusting a well-formed incoming one) and logs each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming(scope) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = {"code": 0}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope.get("method", "WS"),
                path=scope["path"],
                status=status["code"],
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            REQUEST_ID.reset(token)
