"""desk presence in the database: every server process sees which console agents were here recently

Revision ID: 0015
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_presence",
        sa.Column("agent", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agent"),
    )
    op.create_index("ix_desk_presence_seen_at", "desk_presence", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_desk_presence_seen_at", "desk_presence")
    op.drop_table("desk_presence")
