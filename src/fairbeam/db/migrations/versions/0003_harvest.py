"""harvest: the state of each harvested acquisition, and the problems harvest met

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fairbeam.db.base

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "harvest_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_harvest_problem_dataset_id_dataset"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_problem")),
    )
    op.create_index("ix_harvest_problem_at_id", "harvest_problem", ["at", "id"])
    op.create_table(
        "harvest_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=1000), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("harvested", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_harvest_state_dataset_id_dataset"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_state")),
        sa.UniqueConstraint("location", name=op.f("uq_harvest_state_location")),
    )


def downgrade() -> None:
    op.drop_table("harvest_state")
    op.drop_index("ix_harvest_problem_at_id", table_name="harvest_problem")
    op.drop_table("harvest_problem")
