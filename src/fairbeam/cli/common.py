"""What every sub-command shares: settings, a session, one-line errors, --json output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from fairbeam.config import Settings, load_settings
from fairbeam.db import make_engine, make_sessionmaker
from fairbeam.errors import FairbeamError

console = Console()
errors = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")

JsonOption = typer.Option(False, "--json", help="Print JSON for scripts instead of text.")


def emit(data: Any, as_json: bool, text: str) -> None:
    """Print ``data`` as JSON, or ``text`` for a person."""
    if as_json:
        sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
    else:
        console.print(text)


def fail(detail: str, as_json: bool = False) -> None:
    """Say what went wrong in one line and exit non-zero."""
    if as_json:
        sys.stdout.write(json.dumps({"detail": detail}) + "\n")
    else:
        errors.print(f"[bold red]error:[/] {detail}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one line and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except FairbeamError as exc:
            fail(exc.detail, bool(kwargs.get("as_json", False)))
            raise AssertionError("unreachable") from exc

    return wrapper


def settings() -> Settings:
    """Settings from the environment and FAIRBEAM_CONFIG."""
    return load_settings()


@contextmanager
def open_session(config: Settings | None = None) -> Iterator[Session]:
    """A session on the configured catalogue."""
    config = config or settings()
    engine = make_engine(config.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()
