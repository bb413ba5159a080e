"""logbook events by (logbook, created, sequence)

Jumping to a date takes the first event at or after it, ordered by time and then by
sequence number. Events of one batch share their time, so with the index on
(logbook, created) alone the database sorted a whole batch to find that event; with
the sequence number in the index it reads the first entry.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("logbook_event", schema=None) as batch_op:
        batch_op.drop_index("ix_logbook_event_logbook_created")
        batch_op.create_index(
            "ix_logbook_event_logbook_created", ["logbook_id", "created", "sequence"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("logbook_event", schema=None) as batch_op:
        batch_op.drop_index("ix_logbook_event_logbook_created")
        batch_op.create_index(
            "ix_logbook_event_logbook_created", ["logbook_id", "created"], unique=False
        )
