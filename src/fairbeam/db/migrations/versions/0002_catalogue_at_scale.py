"""catalogue at scale: reference checks per statement, a stored text-search vector

Both changes are PostgreSQL's; SQLite keeps its schema.

A foreign key checks each inserted row with its own lookup; registering a dataset of
200,000 files then spends more time in those lookups than in writing the rows. On
PostgreSQL the keys of datafile and dataset_parameter become statement triggers with
the same guarantees: every referenced row must exist (and is locked against deletion
until commit, as a foreign key does), deleting a dataset deletes its files and
parameters, and a parameter type in use cannot be deleted. SQLite keeps its foreign
keys, whose checks are cheap there.

Text search filtered candidate rows by recomputing to_tsvector of their text, which
costs more than the rest of the row's checks together; the vector is now a stored
column and the GIN index is built on it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MISSING = "RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = "

_FUNCTIONS = (
    f"""
CREATE FUNCTION fb_datafile_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM dataset WHERE id IN (SELECT dataset_id FROM new_rows) FOR KEY SHARE;
    IF EXISTS (SELECT 1 FROM new_rows n
               WHERE NOT EXISTS (SELECT 1 FROM dataset d WHERE d.id = n.dataset_id)) THEN
        {_MISSING} 'datafile.dataset_id refers to a dataset that does not exist',
            CONSTRAINT = 'fk_datafile_dataset_id_dataset';
    END IF;
    RETURN NULL;
END $$
""",
    f"""
CREATE FUNCTION fb_dataset_parameter_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM dataset WHERE id IN (SELECT dataset_id FROM new_rows) FOR KEY SHARE;
    PERFORM 1 FROM parameter_type WHERE id IN (SELECT type_id FROM new_rows) FOR KEY SHARE;
    IF EXISTS (SELECT 1 FROM new_rows n
               WHERE NOT EXISTS (SELECT 1 FROM dataset d WHERE d.id = n.dataset_id)) THEN
        {_MISSING} 'dataset_parameter.dataset_id refers to a dataset that does not exist',
            CONSTRAINT = 'fk_dataset_parameter_dataset_id_dataset';
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n
               WHERE NOT EXISTS (SELECT 1 FROM parameter_type t WHERE t.id = n.type_id)) THEN
        {_MISSING} 'dataset_parameter.type_id refers to a parameter type that does not exist',
            CONSTRAINT = 'fk_dataset_parameter_type_id_parameter_type';
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION fb_dataset_delete_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM datafile WHERE dataset_id IN (SELECT id FROM old_rows);
    DELETE FROM dataset_parameter WHERE dataset_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$
""",
    f"""
CREATE FUNCTION fb_parameter_type_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dataset_parameter p
               WHERE p.type_id IN (SELECT id FROM old_rows)) THEN
        {_MISSING} 'parameter type is still used by dataset_parameter',
            CONSTRAINT = 'fk_dataset_parameter_type_id_parameter_type';
    END IF;
    RETURN NULL;
END $$
""",
)
# (trigger, event, table, transition table, function)
_TRIGGERS = (
    ("fb_datafile_insert_refs", "INSERT", "datafile", "NEW", "fb_datafile_references"),
    ("fb_datafile_update_refs", "UPDATE", "datafile", "NEW", "fb_datafile_references"),
    (
        "fb_dataset_parameter_insert_refs",
        "INSERT",
        "dataset_parameter",
        "NEW",
        "fb_dataset_parameter_references",
    ),
    (
        "fb_dataset_parameter_update_refs",
        "UPDATE",
        "dataset_parameter",
        "NEW",
        "fb_dataset_parameter_references",
    ),
    ("fb_dataset_delete_children", "DELETE", "dataset", "OLD", "fb_dataset_delete_children"),
    ("fb_parameter_type_in_use", "DELETE", "parameter_type", "OLD", "fb_parameter_type_in_use"),
)
# (table, constraint, column, referred table, on delete)
_KEYS = (
    ("datafile", "fk_datafile_dataset_id_dataset", "dataset_id", "dataset", "CASCADE"),
    (
        "dataset_parameter",
        "fk_dataset_parameter_dataset_id_dataset",
        "dataset_id",
        "dataset",
        "CASCADE",
    ),
    (
        "dataset_parameter",
        "fk_dataset_parameter_type_id_parameter_type",
        "type_id",
        "parameter_type",
        None,
    ),
)


_VECTOR = "to_tsvector('simple'::regconfig, search_text)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE dataset ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({_VECTOR}) STORED"
    )
    op.execute("DROP INDEX ix_dataset_search")
    op.execute("CREATE INDEX ix_dataset_search ON dataset USING gin (search_vector)")
    for function in _FUNCTIONS:
        op.execute(function)
    for name, event, table, transition, function in _TRIGGERS:
        rows = "new_rows" if transition == "NEW" else "old_rows"
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} "
            f"REFERENCING {transition} TABLE AS {rows} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    for table, constraint, _, _, _ in _KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, constraint, column, referred, on_delete in _KEYS:
        cascade = f" ON DELETE {on_delete}" if on_delete else ""
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} "
            f"FOREIGN KEY ({column}) REFERENCES {referred} (id){cascade}"
        )
    for name, _, table, _, _ in _TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for function in (
        "fb_datafile_references",
        "fb_dataset_parameter_references",
        "fb_dataset_delete_children",
        "fb_parameter_type_in_use",
    ):
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP INDEX ix_dataset_search")
    op.execute("ALTER TABLE dataset DROP COLUMN search_vector")
    op.execute(f"CREATE INDEX ix_dataset_search ON dataset USING gin ({_VECTOR})")
