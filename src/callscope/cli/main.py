"""`callscope serve | token | import | demo`."""

from __future__ import annotations

import io
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from callscope.config import DEFAULT_DATA_DIR, Settings, settings_from_env
from callscope.errors import Busy, CallscopeError, InvalidDocument

if TYPE_CHECKING:
    from callscope.app import Services

DEMO_TENANT = "demo-tenant"

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="Holds the SQLite file and the signing key.")]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CALLSCOPE_DATABASE_URL",
        help="postgresql://... (default: SQLite in the data dir)",
    ),
]
Tenant = Annotated[str, typer.Option("--tenant", help="Tenant id the data belongs to.")]


def _settings(data_dir: Path, database_url: str | None, public_base_url: str | None = None) -> Settings:
    return settings_from_env(data_dir, database_url, public_base_url)


SERVER_OPTIONS: dict[str, Any] = {
    "log_level": "warning",
    "access_log": False,
    "timeout_graceful_shutdown": 5,  # parked P-GETs would otherwise hold a shutdown for minutes
    # UCWA clients reuse a connection between P-GETs; a busy client may pick up a finished poll
    # seconds late, and a server that had closed the connection by then makes its next request fail.
    "timeout_keep_alive": 75,
}


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    public_base_url: Annotated[str | None, typer.Option(help="Base of absolute links, if behind a proxy.")] = None,
    workers: Annotated[int, typer.Option(help="Server processes sharing the port and the database.")] = 1,
    demo: Annotated[bool, typer.Option(help="Load demo data for tenant 'demo-tenant' and print a token.")] = False,
) -> None:
    """Start the HTTP server."""
    import uvicorn

    from callscope.app import create_app, create_services

    settings = _settings(data_dir, database_url, public_base_url)
    if workers > 1:
        _serve_workers(settings, host, port, workers)
        return
    services = create_services(settings)
    if demo:
        _prepare_demo(settings, services, f"http://{host}:{port}")
    uvicorn.run(create_app(settings, services), host=host, port=port, **SERVER_OPTIONS)


def _prepare_demo(settings: Settings, services: Services, base_url: str) -> None:
    from callscope.auth.tokens import issue_token, load_or_create_key
    from callscope.services.call_records import RecordQuery
    from callscope.services.demo import DemoData

    if services.call_records.count(DEMO_TENANT, RecordQuery()) == 0:
        documents = DemoData(1, datetime.now(UTC), DEMO_TENANT).documents(500)
        services.ingestion.import_lines(DEMO_TENANT, (msgspec.json.encode(d) for d in documents))
    scopes = ["CallRecords.Read.All", "CallRecord-PstnCalls.Read.All", "Callscope.Ingest"]
    key = load_or_create_key(settings.data_dir)
    bearer = issue_token(
        key, tenant_id=DEMO_TENANT, scopes=scopes, subject="demo", expires_in=7 * 86400, now=time.time()
    )
    print(f"callscope is serving {base_url} with demo data for tenant {DEMO_TENANT!r}.")
    print(f"A token (valid 7 days):\n\n  export TOKEN={bearer}\n")
    print("Try:\n")
    print(
        f"  curl -s -H \"Authorization: Bearer $TOKEN\" '{base_url}/v1.0/communications/callRecords?$top=3'\n",
        flush=True,
    )


def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from callscope.app import create_services

    create_services(settings)  # migrate once, before the workers start
    os.environ["CALLSCOPE_DATA_DIR"] = str(settings.data_dir)
    os.environ["CALLSCOPE_DATABASE_URL"] = settings.database_url or ""
    os.environ["CALLSCOPE_PUBLIC_BASE_URL"] = settings.public_base_url or ""
    os.environ["CALLSCOPE_SHARED_STORE"] = "1"  # a SQLite file is watched for the other workers' events
    uvicorn.run(
        "callscope.cli.factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **SERVER_OPTIONS,
    )


@app.command()
def token(
    tenant: Tenant,
    scope: Annotated[list[str], typer.Option("--scope", help="A scope to grant; repeat for more.")],
    subject: Annotated[str, typer.Option(help="The user or application the token is for.")] = "callscope-cli",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    expires_in: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a signed bearer token (the last line of the output)."""
    from callscope.auth.tokens import issue_token, load_or_create_key

    key = load_or_create_key(data_dir)
    print(issue_token(key, tenant_id=tenant, scopes=scope, subject=subject, expires_in=expires_in, now=time.time()))


@app.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="A JSON Lines file, or - for standard input.")],
    tenant: Tenant,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes that check the lines; 1 checks them in this one.", min=1)
    ] = None,
) -> None:
    """Import Graph-shaped call records and log rows; any invalid line imports nothing."""
    from sqlalchemy.exc import DBAPIError

    from callscope.app import create_services
    from callscope.services.preparation import READ_BUFFER
    from callscope.storage.revisions import StoreHealth

    services = create_services(_settings(data_dir, database_url))
    source: Path | IO[bytes] = (
        io.BufferedReader(sys.stdin.buffer, buffer_size=READ_BUFFER) if file == "-" else Path(file)  # type: ignore[type-var]
    )
    size = Path(file).stat().st_size if file != "-" and Path(file).is_file() else None  # a pipe's is unknown
    checkers = services.ingestion.preparers(workers or os.cpu_count() or 1)  # forked before progress starts a thread
    with checkers, _progress() as progress:
        task = progress.add_task("checking", total=size, unit="bytes")
        writing = progress.add_task("writing", total=None, visible=False, unit="lines")

        def checked(count: int) -> None:
            progress.advance(task, count)

        def written(done: int, total: int) -> None:
            progress.update(writing, completed=done, total=total, visible=True)

        try:
            result = services.ingestion.import_file(tenant, source, checkers, checked=checked, written=written)
        except InvalidDocument as exc:
            err.print(f"[red]import failed, nothing was written:[/red] {exc.message}")
            raise typer.Exit(1) from exc
        except DBAPIError as exc:
            meaning = StoreHealth(services.engine).explain(exc)
            if meaning is None:
                raise
            reason = "other writers held the database's lock too long" if isinstance(meaning, Busy) else meaning.message
            err.print(
                f"[red]import stopped while writing:[/red] {reason}. The batches written before stay; run the"
                " same import again to complete it (records already stored are skipped)."
            )
            raise typer.Exit(1) from exc
    err.print(result.as_dict())


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} {task.fields[unit]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


@app.command()
def demo(
    calls: Annotated[int, typer.Option(help="How many call records to make.")],
    seed: Annotated[int, typer.Option(help="Same seed, same data.")],
    tenant: Annotated[str, typer.Option(help="Tenant id.")] = DEMO_TENANT,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    output: Annotated[Path | None, typer.Option(help="Write JSON Lines here instead of importing.")] = None,
) -> None:
    """Generate realistic demo records (and PSTN/direct-routing rows) and import them."""
    from callscope.services.demo import DemoData

    documents = DemoData(seed, datetime.now(UTC), tenant).documents(calls)
    lines = (msgspec.json.encode(d) for d in documents)
    if output is not None:
        with output.open("wb") as handle:
            for line in lines:
                handle.write(line + b"\n")
        return
    from callscope.app import create_services

    services = create_services(_settings(data_dir, database_url))
    result = services.ingestion.import_lines(tenant, lines, atomic=False)
    err.print(result.as_dict())


users_app = typer.Typer(no_args_is_help=True, help="Users of the live-calls API.")
app.add_typer(users_app, name="user")


@users_app.command("add")
def user_add(
    tenant: Tenant,
    user: Annotated[str, typer.Option("--user", help="Sign-in name, e.g. alice@example.com.")],
    display_name: Annotated[str | None, typer.Option(help="Name shown to others.")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="CALLSCOPE_USER_PASSWORD", help="Password (prompted for when not given)."),
    ] = None,
    no_password: Annotated[bool, typer.Option(help="Token sign-in only.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user (or change their name and password); passwords are stored as Argon2id hashes."""
    from callscope.app import create_services

    if password is None and not no_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    services = create_services(_settings(data_dir, database_url))
    try:
        added = services.users.add(tenant, user, display_name, None if no_password else password)
    except CallscopeError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    err.print(f"user {added.uri} ({added.display_name}) in tenant {added.tenant_id}")


def main() -> None:
    """Entry point of the `callscope` script."""
    app()
