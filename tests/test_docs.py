"""Every setting, route and command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from fairbeam.api.app import create_app
from fairbeam.config import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "reference"


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite://"))
    routes = sorted(
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.route, APIRoute) and route.route.include_in_schema
        for method in route.methods
        if method != "HEAD"
    )
    assert len(routes) > 20, "the routes of the included routers were not found"
    return routes


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    text = (DOCS / "settings.md").read_text()
    assert f"`FAIRBEAM_{name.upper()}`" in text


@pytest.mark.parametrize(("method", "path"), _routes())
def test_every_route_is_documented(method: str, path: str) -> None:
    text = (DOCS / "api.md").read_text()
    documented = re.sub(r"\{[^}]+\}", "{}", text)
    assert f"`{method} {re.sub(r'{[^}]+}', '{}', path)}`" in documented


def test_every_command_is_documented() -> None:
    from typer.main import get_command

    from fairbeam.cli.main import app

    text = (DOCS / "cli.md").read_text()
    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for sub in subcommands:
                assert f"fairbeam {name} {sub}" in text, f"fairbeam {name} {sub}"
        else:
            assert f"fairbeam {name}" in text, f"fairbeam {name}"
