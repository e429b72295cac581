"""handoff desks: where each desk shows a handoff, the handoff outcome and the long-wait reminder

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("desk", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("thread_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("desk", "channel", "thread_id"),
        sa.UniqueConstraint("desk", "handoff_id"),
    )
    with op.batch_alter_table("desk_thread", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_thread_handoff_id"), ["handoff_id"], unique=False)

    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("outcome")

    with op.batch_alter_table("desk_thread", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_thread_handoff_id"))

    op.drop_table("desk_thread")
