"""`lendgraph scoring register`: Lendgraph introduces itself to the scoring engine
(createClient) with its public URL and HTTP Basic credentials, and keeps the client token."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from app.settings import get_settings

scoring_cli = typer.Typer(help="The external scoring engine.", no_args_is_help=True)
console = Console(stderr=True)


@scoring_cli.command("register")
def register(
    public_url: Annotated[
        str | None, typer.Option(help="Where the engine reaches Lendgraph (PUBLIC_URL).")
    ] = None,
    wait: Annotated[
        float, typer.Option(help="Keep trying this many seconds while the engine is down.")
    ] = 0.0,
) -> None:
    """Register with SCORING_ENGINE_URL; registering again replaces the token."""
    from app.db import make_engine, make_session_factory
    from domain.scoring.external import ScoringClientRejected, ScoringEngineUnavailable
    from domain.scoring.registration import register_with_engine
    from domain.tables import utcnow
    from integrations.scoring_engine import HttpScoringEngine

    settings = get_settings()
    if not settings.scoring_engine_url:
        raise typer.BadParameter("SCORING_ENGINE_URL is not set")
    client = HttpScoringEngine(settings.scoring_engine_url, settings.scoring_timeout_seconds)
    engine = make_engine(settings.database_url, pool_size=1)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                with make_session_factory(engine)() as session:
                    row = register_with_engine(
                        session,
                        client,
                        engine_url=settings.scoring_engine_url,
                        public_url=public_url or settings.public_url,
                        credentials=settings.callback_credentials(),
                        now=utcnow(),
                    )
                    session.commit()
                    client_id, callback = row.client_id, row.callback_url
                break
            except (ScoringEngineUnavailable, ScoringClientRejected) as error:
                if time.monotonic() >= deadline:
                    console.print(f"[red]{error.message}[/red]")
                    raise typer.Exit(code=1) from None
                time.sleep(0.5)
    finally:
        client.close()
        engine.dispose()
    console.print(
        f"registered with the scoring engine as client {client_id}; it reads transactions "
        f"from {callback}"
    )
