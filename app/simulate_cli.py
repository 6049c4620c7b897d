"""`lendgraph simulate`: local stand-ins for the bank's core banking system (SOAP) and the
external scoring engine (REST), for `make run`, demos and tests (RULES.md §3)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from starlette.applications import Starlette

from app.settings import get_settings

simulate = typer.Typer(
    help="Simulators of the core banking system and the scoring engine.", no_args_is_help=True
)
console = Console(stderr=True)

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
CbsPort = Annotated[int, typer.Option(help="Port of the CBS simulator.")]
ScoringPort = Annotated[int, typer.Option(help="Port of the scoring engine simulator.")]
Generated = Annotated[
    int, typer.Option(help="Extra generated CBS customers, numbered 500000001 upwards.")
]
Delay = Annotated[float, typer.Option(help="Seconds the CBS waits before each answer.")]
Mode = Annotated[str, typer.Option(help="CBS behaviour: ok, down, fault or garbled.")]
NotReady = Annotated[
    int, typer.Option(help="queryScore answers 'not ready' this many times per score first.")
]


def _cbs_app(generated: int, delay: float, mode: str) -> Starlette:
    from integrations.cbs.simulator import create_cbs_simulator

    settings = get_settings()
    app = create_cbs_simulator(settings.cbs_username, settings.cbs_password, generated)
    app.state.controls.mode, app.state.controls.delay_seconds = mode, delay
    return app


def _scoring_app(not_ready: int) -> Starlette:
    from integrations.simulators.scoring import create_scoring_simulator

    return create_scoring_simulator(not_ready_attempts=not_ready)


def _serve(*apps: tuple[Starlette, str, int]) -> None:
    servers = [
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        for app, host, port in apps
    ]
    for _, host, port in apps:
        console.print(f"simulator listening on http://{host}:{port}")

    async def run_all() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(run_all())


@simulate.command("cbs")
def cbs(
    host: Host = "127.0.0.1",
    port: CbsPort = 8093,
    generated: Generated = 100,
    delay: Delay = 0.0,
    mode: Mode = "ok",
) -> None:
    """Serve the core banking SOAP simulator (WSDLs at /service/customer?wsdl)."""
    _serve((_cbs_app(generated, delay, mode), host, port))


@simulate.command("scoring")
def scoring(host: Host = "127.0.0.1", port: ScoringPort = 8094, not_ready: NotReady = 1) -> None:
    """Serve the scoring engine simulator (createClient, initiateQueryScore, queryScore)."""
    _serve((_scoring_app(not_ready), host, port))


@simulate.command("all")
def both(
    host: Host = "127.0.0.1",
    cbs_port: CbsPort = 8093,
    scoring_port: ScoringPort = 8094,
    generated: Generated = 100,
    not_ready: NotReady = 1,
) -> None:
    """Serve both simulators from one process (what `make run` starts)."""
    _serve(
        (_cbs_app(generated, 0.0, "ok"), host, cbs_port),
        (_scoring_app(not_ready), host, scoring_port),
    )
