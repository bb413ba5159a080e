"""Text and HTML renderings of client results, for terminals and Jupyter."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_size(size: int) -> str:
    """A byte count in decimal units, e.g. ``1.5 GB``."""
    value = float(size)
    for unit in UNITS:
        if value < 1000 or unit == UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def show(value: Any) -> str:
    """A short plain-text form of one field's value."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    return str(value)


def html_table(rows: Sequence[Mapping[str, Any]], caption: str = "") -> str:
    """An HTML table of ``rows``, with the union of their keys as columns."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(show(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_fields(title: str, fields: Mapping[str, Any]) -> str:
    """An HTML card: a title, then one row per field."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
        f"<td style='text-align:left'>{html.escape(show(value))}</td></tr>"
        for name, value in fields.items()
    )
    return f"<div><strong>{html.escape(title)}</strong><table>{body}</table></div>"
