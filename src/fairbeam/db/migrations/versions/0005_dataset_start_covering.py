"""dataset start index covers the access checks

The newest datasets of a facility are under embargo, so the first page of the dataset
list, for anyone but a manager, walks back over many datasets it may not show before
finding fifty it may. With the investigation and instrument in the (start, id) index,
that walk reads the index alone instead of every skipped dataset's row. Keyset
pagination on (start, id) uses the same index as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_start_id")
        batch_op.create_index(
            "ix_dataset_start_id",
            ["start", "id", "investigation_id", "instrument_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_start_id")
        batch_op.create_index("ix_dataset_start_id", ["start", "id"], unique=False)
