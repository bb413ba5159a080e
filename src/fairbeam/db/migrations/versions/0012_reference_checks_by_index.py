"""reference checks of files and parameters: through the primary key, whatever the plan

The statement triggers of migration 0002 asked whether any new row referred to a
missing dataset with `NOT EXISTS (SELECT 1 FROM dataset ...)`. PostgreSQL plans that as
a hash anti-join, which reads the whole dataset table into a hash: once for a batch's
files and once for its parameters, so registering a million datasets in batches of a
thousand read the dataset table two thousand times, the time of a batch growing with
the catalogue. The checks now gather the distinct datasets (and parameter types) a
statement refers to, lock them through the primary key as before, and compare how many
were found with how many were asked for: a thousand index lookups per batch, however
large the catalogue and whatever the planner's statistics say (the functions turn
sequential and bitmap scans off for their own statements).

PostgreSQL only; SQLite keeps its foreign keys.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A batch refers to a few of the catalogue's datasets: look each up by its key, even where
# the planner's statistics (stale after a bulk load, or none yet) would read the table.
_BY_KEY = "SET enable_seqscan = off SET enable_bitmapscan = off"


def _missing(column: str, referred: str, constraint: str) -> str:
    """Raise a foreign key violation, as the foreign key it replaces would."""
    return (
        "RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', "
        f"MESSAGE = '{column} refers to a {referred} that does not exist', "
        f"CONSTRAINT = '{constraint}';"
    )


def _check(table: str, column: str, referred: str, noun: str, constraint: str) -> str:
    """Lock the rows of ``referred`` that the new rows' ``column`` names; raise if any is
    missing: one primary key lookup per distinct value."""
    return f"""
    SELECT array_agg(DISTINCT {column}) INTO wanted FROM new_rows;
    SELECT count(*) INTO found
    FROM (SELECT 1 FROM {referred} WHERE id = ANY (wanted) FOR KEY SHARE) AS locked;
    IF found < coalesce(cardinality(wanted), 0) THEN
        {_missing(f"{table}.{column}", noun, constraint)}
    END IF;"""


def _function(name: str, *checks: str) -> str:
    """A statement trigger's function running ``checks`` in turn."""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql {_BY_KEY} AS $$
DECLARE
    wanted integer[];
    found bigint;
BEGIN
    {"".join(checks)}
    RETURN NULL;
END $$
"""


_FUNCTIONS = (
    _function(
        "fb_datafile_references",
        _check("datafile", "dataset_id", "dataset", "dataset", "fk_datafile_dataset_id_dataset"),
    ),
    _function(
        "fb_dataset_parameter_references",
        _check(
            "dataset_parameter",
            "dataset_id",
            "dataset",
            "dataset",
            "fk_dataset_parameter_dataset_id_dataset",
        ),
        _check(
            "dataset_parameter",
            "type_id",
            "parameter_type",
            "parameter type",
            "fk_dataset_parameter_type_id_parameter_type",
        ),
    ),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in _FUNCTIONS:
        op.execute(function)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The functions as migration 0002 made them.
    earlier = importlib.import_module("fairbeam.db.migrations.versions.0002_catalogue_at_scale")
    for function in earlier._FUNCTIONS[:2]:
        op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
