"""where each staff notice about a customer was posted in Slack, so deleting the customer deletes it there too

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "staff_notice_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("desk", _TEXT(), nullable=False),
        sa.Column("channel", _TEXT(), nullable=False),
        sa.Column("message_id", _TEXT(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_notice_copy_customer_id", "staff_notice_copy", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_notice_copy_customer_id", table_name="staff_notice_copy")
    op.drop_table("staff_notice_copy")
