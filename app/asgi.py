"""The ASGI application: /graphql (HTTP and websocket), /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import redis
import structlog
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from app import metrics
from app.graphql_view import LendgraphGraphQL
from app.logging import configure_logging
from app.request_ids import RequestIdMiddleware
from app.runtime import Runtime
from app.scoring_api import transactions_endpoint
from app.settings import Settings, get_settings
from domain.outbox import count_pending
from domain.scoring.registration import TRANSACTIONS_PATH
from schema import SchemaLimits, build_schema

log = structlog.get_logger(__name__)


def _check_database(runtime: Runtime) -> str:
    with runtime.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return "ok"


def _check_broker(runtime: Runtime) -> str:
    if runtime.settings.redis_url:
        client = redis.Redis.from_url(runtime.settings.redis_url, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    return "ok"


def _pending_outbox(runtime: Runtime) -> int:
    with runtime.session_factory() as session:
        return count_pending(session)


def _middleware(settings: Settings) -> list[Middleware]:
    stack = [Middleware(RequestIdMiddleware)]
    if settings.allowed_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    return stack


def create_app(settings: Settings | None = None, schema: Any = None) -> Starlette:
    """Build the app; `schema` lets tests serve a schema of their own through the same stack."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    runtime = Runtime.build(settings)
    schema = schema or build_schema(
        SchemaLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            introspection=not settings.is_production,
        )
    )
    graphql = LendgraphGraphQL(schema, runtime)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks: dict[str, str] = {}
        for name, check in (("database", _check_database), ("broker", _check_broker)):
            try:
                checks[name] = await anyio.to_thread.run_sync(check, runtime)
            except Exception as error:
                checks[name] = f"unavailable: {type(error).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def metrics_endpoint(_: Request) -> Response:
        try:
            pending = await anyio.to_thread.run_sync(_pending_outbox, runtime)
            metrics.OUTBOX_PENDING.set(pending)
        except Exception:
            log.warning("metrics_outbox_count_failed")
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await runtime.events.start()
        # sign-outs committed by any process: forget what this one remembered of the user
        revocations = asyncio.create_task(
            runtime.sign_ins.follow(runtime.events.subscribe), name="sign-out-follower"
        )
        runtime.start_embedded()
        await anyio.to_thread.run_sync(runtime.seed_if_empty)
        log.info(
            "lendgraph_started",
            env=settings.env.value,
            database=settings.database_url.split("@")[-1],
            broker="redis" if settings.redis_url else "embedded",
        )
        try:
            yield
        finally:
            revocations.cancel()
            with suppress(asyncio.CancelledError):
                await revocations
            await runtime.events.stop()
            graphql.password_work.close()
            await anyio.to_thread.run_sync(runtime.close)

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route(
                TRANSACTIONS_PATH + "/{customer_number}",
                transactions_endpoint(runtime),
                methods=["GET"],
            ),
        ],
        middleware=_middleware(settings),
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.runtime = runtime
    app.state.graphql = graphql
    return app
