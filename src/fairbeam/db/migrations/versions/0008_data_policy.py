"""data policy: DOIs, collection DOI requests, embargo extensions, archive bundles,
restore requests and policy passes; a dataset's storage state and an investigation's
release by the policy pass

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fairbeam.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.Column("finished", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_pass")),
    )
    with op.batch_alter_table("policy_pass", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_pass_started"), ["started"], unique=False)

    op.create_table(
        "doi_collection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("created", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_doi_collection_decided_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["user_account.id"],
            name=op.f("fk_doi_collection_requested_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doi_collection")),
    )
    with op.batch_alter_table("doi_collection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_doi_collection_requested_by"), ["requested_by"], unique=False
        )
        batch_op.create_index(
            "ix_doi_collection_status_created", ["status", "created"], unique=False
        )

    op.create_table(
        "doi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doi", sa.String(length=200), nullable=False),
        sa.Column("investigation_id", sa.Integer(), nullable=True),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("synced", sa.Boolean(), nullable=False),
        sa.Column("sync_error", sa.Text(), nullable=False),
        sa.Column("created", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["doi_collection.id"],
            name=op.f("fk_doi_collection_id_doi_collection"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigation.id"],
            name=op.f("fk_doi_investigation_id_investigation"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doi")),
        sa.UniqueConstraint("collection_id", name=op.f("uq_doi_collection_id")),
        sa.UniqueConstraint("doi", name=op.f("uq_doi_doi")),
        sa.UniqueConstraint("investigation_id", name=op.f("uq_doi_investigation_id")),
    )
    with op.batch_alter_table("doi", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_doi_synced"), ["synced"], unique=False)

    op.create_table(
        "embargo_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("investigation_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("previous_release", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("requested_release", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("created", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_embargo_extension_decided_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigation.id"],
            name=op.f("fk_embargo_extension_investigation_id_investigation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["user_account.id"],
            name=op.f("fk_embargo_extension_requested_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embargo_extension")),
    )
    with op.batch_alter_table("embargo_extension", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_embargo_extension_investigation_id"), ["investigation_id"], unique=False
        )
        batch_op.create_index(
            "ix_embargo_extension_status_created", ["status", "created"], unique=False
        )

    op.create_table(
        "archive_bundle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("bundle_size", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(length=200), nullable=True),
        sa.Column("created", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.Column("verified", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("completed", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("keep_until", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("deleted", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_archive_bundle_dataset_id_dataset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_bundle")),
    )
    with op.batch_alter_table("archive_bundle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_archive_bundle_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index("ix_archive_bundle_state", ["state", "id"], unique=False)

    op.create_table(
        "doi_collection_dataset",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["doi_collection.id"],
            name=op.f("fk_doi_collection_dataset_collection_id_doi_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_doi_collection_dataset_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "collection_id", "dataset_id", name=op.f("pk_doi_collection_dataset")
        ),
    )
    with op.batch_alter_table("doi_collection_dataset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_doi_collection_dataset_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "restore_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created", fairbeam.db.base.UTCDateTime(), nullable=False),
        sa.Column("started", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.Column("finished", fairbeam.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_restore_request_dataset_id_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["user_account.id"],
            name=op.f("fk_restore_request_requested_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restore_request")),
    )
    with op.batch_alter_table("restore_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_restore_request_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(
            "ix_restore_request_status_created", ["status", "created"], unique=False
        )

    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "storage_state", sa.String(length=20), server_default="online", nullable=False
            )
        )
        batch_op.create_index(
            "ix_dataset_storage_state_start", ["storage_state", "start"], unique=False
        )

    with op.batch_alter_table("investigation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released", fairbeam.db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the dataset
    # table would fail on SQLite while other tables' foreign keys point at it.
    op.drop_column("investigation", "released")
    op.drop_index("ix_dataset_storage_state_start", table_name="dataset")
    op.drop_column("dataset", "storage_state")

    with op.batch_alter_table("restore_request", schema=None) as batch_op:
        batch_op.drop_index("ix_restore_request_status_created")
        batch_op.drop_index(batch_op.f("ix_restore_request_dataset_id"))

    op.drop_table("restore_request")
    with op.batch_alter_table("doi_collection_dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_doi_collection_dataset_dataset_id"))

    op.drop_table("doi_collection_dataset")
    with op.batch_alter_table("archive_bundle", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_bundle_state")
        batch_op.drop_index(batch_op.f("ix_archive_bundle_dataset_id"))

    op.drop_table("archive_bundle")
    with op.batch_alter_table("embargo_extension", schema=None) as batch_op:
        batch_op.drop_index("ix_embargo_extension_status_created")
        batch_op.drop_index(batch_op.f("ix_embargo_extension_investigation_id"))

    op.drop_table("embargo_extension")
    with op.batch_alter_table("doi", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_doi_synced"))

    op.drop_table("doi")
    with op.batch_alter_table("doi_collection", schema=None) as batch_op:
        batch_op.drop_index("ix_doi_collection_status_created")
        batch_op.drop_index(batch_op.f("ix_doi_collection_requested_by"))

    op.drop_table("doi_collection")
    with op.batch_alter_table("policy_pass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_pass_started"))

    op.drop_table("policy_pass")
