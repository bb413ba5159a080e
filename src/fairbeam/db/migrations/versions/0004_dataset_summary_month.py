"""dataset summary per month: the statistics over time read it, not the dataset table

The summary's key gains the month of the datasets' start, and its rows are counted
again from the datasets.

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | tuple[str, ...] | None = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _part(field: str) -> str:
    # The calendar field of the naive UTC start both engines store.
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(EXTRACT({field} FROM start) AS INTEGER)"
    return f"CAST(strftime('{'%Y' if field == 'year' else '%m'}', start) AS INTEGER)"


def _create(with_month: bool) -> None:
    key = ["investigation_id", "technique", "year", *(["month"] if with_month else []), "type"]
    op.create_table(
        "dataset_summary",
        sa.Column("investigation_id", sa.Integer(), nullable=False),
        sa.Column("technique", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        *([sa.Column("month", sa.Integer(), nullable=False)] if with_month else []),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("datasets", sa.Integer(), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("volume_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instrument.id"],
            name=op.f("fk_dataset_summary_instrument_id_instrument"),
        ),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigation.id"],
            name=op.f("fk_dataset_summary_investigation_id_investigation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_dataset_summary")),
    )
    op.create_index(op.f("ix_dataset_summary_instrument_id"), "dataset_summary", ["instrument_id"])
    year = _part("year")
    month = [_part("month")] if with_month else []
    columns = ", ".join(["investigation_id", "technique", year, *month, "type"])
    names = ", ".join(key)
    op.execute(
        f"INSERT INTO dataset_summary ({names}, instrument_id, datasets, files, volume_bytes) "
        f"SELECT {columns}, MIN(instrument_id), COUNT(*), SUM(file_count), SUM(volume_bytes) "
        f"FROM dataset GROUP BY {columns}"
    )


def upgrade() -> None:
    op.drop_index(op.f("ix_dataset_summary_instrument_id"), table_name="dataset_summary")
    op.drop_table("dataset_summary")
    _create(with_month=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_dataset_summary_instrument_id"), table_name="dataset_summary")
    op.drop_table("dataset_summary")
    _create(with_month=False)
