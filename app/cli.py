"""The `lendgraph` command: serve, worker, scheduler, migrate, users and demo data."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.billing_cli import billing_cli
from app.import_cli import generate_sample, imports
from app.scoring_cli import scoring_cli
from app.settings import get_settings
from app.simulate_cli import simulate

cli = typer.Typer(
    help="Lendgraph: loan management served as a GraphQL API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
cli.add_typer(imports, name="import")
cli.command("generate-sample")(generate_sample)
cli.add_typer(simulate, name="simulate")
cli.add_typer(scoring_cli, name="scoring")
cli.add_typer(billing_cli, name="billing")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1):
        pass


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in development)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and (settings.is_sqlite or not settings.redis_url):
        raise typer.BadParameter(
            "several workers need PostgreSQL and Redis (DATABASE_URL, "
            "REDIS_URL): embedded jobs and events live in one process"
        )
    uvicorn.run(
        "app.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
        ws="websockets",
    )


@cli.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 8,
) -> None:
    """Run background jobs from the Redis queue until interrupted."""
    from app.logging import configure_logging
    from app.runtime import Runtime

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if not settings.redis_url:
        raise typer.BadParameter("REDIS_URL is not set: embedded mode runs jobs inside `serve`")
    runtime = Runtime.build(settings)
    _serve_metrics(settings.metrics_port)
    runtime.start_worker(threads)
    console.print(f"worker running with {threads} threads; Ctrl-C to stop")
    _wait_for_signal()
    runtime.close()


@cli.command()
def scheduler() -> None:
    """Run periodic jobs (outbox relay; later daily billing). One leader at a time."""
    from app.logging import configure_logging
    from app.runtime import Runtime

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if not settings.redis_url:
        raise typer.BadParameter(
            "REDIS_URL is not set: embedded mode runs the scheduler inside `serve`"
        )
    runtime = Runtime.build(settings)
    runtime.start_scheduler()
    console.print("scheduler running (standby until it holds the leader lock); Ctrl-C to stop")
    _wait_for_signal()
    runtime.close()


def _serve_metrics(port: int | None) -> None:
    if port:
        from prometheus_client import start_http_server

        start_http_server(port)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from app.migrations import migrate as run_migrations

    settings = get_settings()
    run_migrations(settings.database_url)
    console.print("database is up to date")


@cli.command("create-user")
def create_user(
    username: Annotated[str, typer.Option(help="Unique username.")],
    role: Annotated[str, typer.Option(help="CUSTOMER, PROVIDER or STAFF.")] = "STAFF",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user; prompts for the password unless --password-stdin is given."""
    from app.db import make_engine, make_session_factory
    from domain.errors import DomainError
    from domain.users import Role
    from domain.users import create_user as create

    try:
        chosen_role = Role(role.upper())
    except ValueError:
        raise typer.BadParameter("role must be CUSTOMER, PROVIDER or STAFF") from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(get_settings().database_url, pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            user = create(session, username, password, chosen_role)
            session.commit()
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()
    console.print(f"created {chosen_role.value} user {user.username} (id {user.id})")


@cli.command("disable-user")
def disable_user(username: Annotated[str, typer.Option(help="The user to disable.")]) -> None:
    """Disable a user: no more sign-ins, and every session they hold ends now (their
    websockets close within seconds; at once on every API process when REDIS_URL is set)."""
    from app.runtime import Runtime
    from domain.errors import DomainError
    from domain.sign_in import disable_user as disable
    from domain.tables import utcnow
    from domain.unit_of_work import UnitOfWork

    runtime = Runtime.build(get_settings())
    try:
        with runtime.session_factory() as session:
            uow = UnitOfWork(session, runtime.dispatcher.dispatch)
            with uow.transaction():
                user = disable(session, username, utcnow())
                uow.commit()
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(code=1) from None
    finally:
        runtime.close()
    console.print(f"disabled user {user.username} (id {user.id}); their sessions are ended")


@cli.command()
def demo() -> None:
    """Load the demo data once and print how to sign in."""
    from app.demo import load_demo_data
    from app.logging import configure_logging
    from app.runtime import Runtime

    settings = get_settings()
    if settings.is_production:
        raise typer.BadParameter("demo data is for development (LENDGRAPH_ENV=production)")
    configure_logging("WARNING", settings.log_json)
    runtime = Runtime.build(settings)
    try:
        report = load_demo_data(runtime, Path("var/demo-sample"))
    finally:
        runtime.close()
    for item in report.created:
        console.print(f"demo data: created {item}")
    for role, username, password in report.credentials:
        console.print(
            f"[bold]demo {role} sign-in:[/bold] username [green]{username}[/green] "
            f"password [green]{password}[/green]"
        )


ledger_cli = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
cli.add_typer(ledger_cli, name="ledger")


@ledger_cli.command("verify")
def verify_ledger_command() -> None:
    """Re-add every journal line: entries must balance and balances match (exit 1 if not)."""
    from app.db import make_engine, make_session_factory
    from domain.ledger import verify_ledger

    engine = make_engine(get_settings().database_url, pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            problems = verify_ledger(session)
    finally:
        engine.dispose()
    for problem in problems:
        console.print(f"[red]{problem.what}[/red]")
    if problems:
        raise typer.Exit(code=1)
    console.print("ledger verified: every entry balances and every balance matches its lines")


@cli.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); `make check` diffs it against schema.graphql."""
    from schema import schema

    typer.echo(schema.as_str())


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
