"""Fast row writers: COPY on PostgreSQL, executemany on SQLite, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
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
    dbapi = session.get_bind().dialect.loaded_dbapi
    try:
        _copy_rows(session, table, columns, rows)
    except dbapi.IntegrityError as exc:
        # Reported as SQLAlchemy does, so that callers retry a clash with a concurrent
        # writer (the same new dataset registered twice at once) as for any INSERT.
        raise IntegrityError(f"COPY {table}", None, exc) from exc


def _copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    driver = session.connection().connection.driver_connection
    column_list = ", ".join(f'"{c}"' for c in columns)
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


def insert_with_new_ids(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    unique: Sequence[str],
) -> list[int]:
    """Insert rows (values in ``columns`` order) and return their new ids in order.

    On PostgreSQL the ids come from the table's sequence in one round trip and the
    rows go in with COPY, several times faster than INSERT ... RETURNING. On SQLite
    multi-row INSERTs return each id with the row's ``unique`` columns, which match
    ids to rows (asking for the rows' order would insert them one at a time).
    """
    if not rows:
        return []
    if dialect_name(session) == "postgresql":
        ids = sorted(
            session.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:fb_table, 'id')) "
                    "FROM generate_series(1, :fb_count)"
                ),
                {"fb_table": table.name, "fb_count": len(rows)},
            ).scalars()
        )
        copy_rows(
            session,
            table.name,
            ("id", *columns),
            ((new_id, *row) for new_id, row in zip(ids, rows, strict=True)),
        )
        return ids
    positions = [columns.index(name) for name in unique]
    statement = insert(table).returning(table.c.id, *(table.c[name] for name in unique))
    result = session.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
    id_of = {tuple(found[1:]): found[0] for found in result}
    return [id_of[tuple(row[p] for p in positions)] for row in rows]
