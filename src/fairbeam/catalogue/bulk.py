"""Fast row writers: COPY on PostgreSQL, executemany on SQLite, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def upsert_insert(session: Session, table: Any) -> Any:
    """The engine's INSERT that understands ON CONFLICT."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append rows to ``table`` as fast as the engine allows, inside the transaction."""
    driver = session.connection().connection.driver_connection
    column_list = ", ".join(columns)
    if dialect_name(session) == "postgresql":
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def insert_returning_ids(
    session: Session, statement: Insert, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert rows and return their new ids in the order given."""
    result = session.execute(
        statement.returning(statement.table.c.id, sort_by_parameter_order=True),
        rows,
    )
    return [row[0] for row in result]
