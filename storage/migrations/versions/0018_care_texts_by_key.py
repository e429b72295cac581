"""staff notices and tasks keep the text key and its values, so each staff page shows them in its own language

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("staff_inbox", "care_task"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("message", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("staff_inbox", "care_task"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("message")
