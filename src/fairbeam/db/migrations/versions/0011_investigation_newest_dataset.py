"""investigations: the latest start of their datasets, to bound a newest-first list

The newest datasets are under embargo: a list of datasets sorted newest first, for a
caller who sees only released ones, read past every embargoed dataset of the last
three years before its first row (300,000 index entries at a million datasets). With
each investigation's latest dataset start kept beside its counts, the list starts
below the latest start among the investigations the caller may see: one short index
scan, then the page.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fairbeam.db.base import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE on both engines: SQLite's batch mode would copy the table and
    # drop the original, which the other tables' foreign keys forbid.
    op.add_column("investigation", sa.Column("newest_dataset_start", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE investigation SET newest_dataset_start = "
        "(SELECT max(dataset.start) FROM dataset WHERE dataset.investigation_id = investigation.id)"
    )
    op.create_index(
        "ix_investigation_newest_dataset",
        "investigation",
        ["newest_dataset_start", "release_date"],
    )


def downgrade() -> None:
    op.drop_index("ix_investigation_newest_dataset", table_name="investigation")
    op.drop_column("investigation", "newest_dataset_start")
