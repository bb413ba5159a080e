"""Alembic environment: runs on the connection fairbeam hands it, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from fairbeam.db.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave SQLite's full-text tables, made by hand in a migration, to that migration."""
    return not (type_ == "table" and (name or "").startswith(("dataset_fts", "logbook_event_fts")))


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
