"""The `fairbeam` command: one sub-app per feature."""

from __future__ import annotations

import typer

from fairbeam import __version__
from fairbeam.access.cli import token_app, user_app
from fairbeam.catalogue.cli import instrument_app
from fairbeam.cli.common import console, handles_errors, settings
from fairbeam.db import make_engine, upgrade_database
from fairbeam.demo.cli import demo
from fairbeam.ingest.cli import ingest
from fairbeam.ingest.watch_cli import watch
from fairbeam.policy.cli import policy_app
from fairbeam.transfer.cli import download
from fairbeam.transfer.zerocopy import LOOP as ZEROCOPY_LOOP
from fairbeam.transfer.zerocopy import PROTOCOL as ZEROCOPY_PROTOCOL

app = typer.Typer(
    name="fairbeam",
    help="The data management platform of a research facility.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The catalogue database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(instrument_app, name="instrument")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(policy_app, name="policy")
app.command("demo")(demo)
app.command("ingest")(ingest)
app.command("watch")(watch)
app.command("download")(download)


@app.callback()
def main() -> None:
    """fairbeam: catalogue, portal, logbook and data policy of a facility."""


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Create or migrate the catalogue schema (safe to run again)."""
    config = settings()
    engine = make_engine(config.database_url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    console.print(f"catalogue schema is up to date ({config.database_kind})")


@app.command()
@handles_errors
def serve(
    host: str = typer.Option(None, help="Address to bind (default FAIRBEAM_HOST)."),
    port: int = typer.Option(None, help="Port (default FAIRBEAM_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, help="API processes."),
    access_log: bool = typer.Option(
        True, help="Log every request (off behind a proxy that logs them already)."
    ),
) -> None:
    """Serve the API and the portal."""
    import uvicorn

    config = settings()
    engine = make_engine(config.database_url)
    upgrade_database(engine)
    engine.dispose()
    host = host or config.host
    port = port or config.port
    console.print(
        f"fairbeam {__version__} serving on http://{host}:{port} ({config.database_kind})"
    )
    uvicorn.run(
        "fairbeam.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        # File bytes leave through sendfile (fairbeam.transfer.zerocopy).
        http=ZEROCOPY_PROTOCOL,
        loop=ZEROCOPY_LOOP,
    )
