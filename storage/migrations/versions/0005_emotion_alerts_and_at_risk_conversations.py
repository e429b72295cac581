"""emotion alerts and at-risk conversations

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emotion_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("emotion_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emotion_alert_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_emotion_alert_customer_id"), ["customer_id"], unique=False)

    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("at_risk", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("at_risk")

    with op.batch_alter_table("emotion_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emotion_alert_customer_id"))
        batch_op.drop_index(batch_op.f("ix_emotion_alert_created_at"))

    op.drop_table("emotion_alert")
