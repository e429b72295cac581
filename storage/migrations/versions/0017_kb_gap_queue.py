"""the gap queue's decisions, and drafts that add a customer's wording to an existing entry

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("faq_draft") as batch:
        batch.add_column(sa.Column("kind", _TEXT(), nullable=False, server_default="entry"))
    op.create_table(
        "kb_gap_decision",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("action", _TEXT(), nullable=False),
        sa.Column("faq_id", _TEXT(), nullable=True),
        sa.Column("decided_by", _TEXT(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    op.drop_table("kb_gap_decision")
    with op.batch_alter_table("faq_draft") as batch:
        batch.drop_column("kind")
