"""archive bundles: a partial index of the unfinished ones instead of (state, id)

The index on (state, id) holds every bundle's id, so for an update by primary key the
planner could take it, with statistics of a table that was empty at its last
ANALYZE, and read the whole index for each of a pass's thousands of state changes
(a quarter of an archive pass's time at 2,000 bundles, growing with the table). A
pass looks for the unfinished bundles only (packing, packed or verified): a partial
index on their ids answers that query, stays as small as the work in progress, and
is of no use to any other.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNFINISHED = sa.text("state IN ('packing', 'packed', 'verified')")


def upgrade() -> None:
    op.drop_index("ix_archive_bundle_state", table_name="archive_bundle")
    op.create_index(
        "ix_archive_bundle_unfinished",
        "archive_bundle",
        ["id"],
        postgresql_where=_UNFINISHED,
        sqlite_where=_UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_archive_bundle_unfinished", table_name="archive_bundle")
    op.create_index("ix_archive_bundle_state", "archive_bundle", ["state", "id"])
