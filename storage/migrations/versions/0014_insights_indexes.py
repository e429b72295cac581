"""indexes for the insights' time ranges (conversations started, handoffs requested and closed)

Revision ID: 0014
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_conversation_started_at", "conversation", ["started_at"])
    op.create_index("ix_handoff_requested_at", "handoff", ["requested_at"])
    op.create_index("ix_handoff_resolved_at", "handoff", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_handoff_resolved_at", "handoff")
    op.drop_index("ix_handoff_requested_at", "handoff")
    op.drop_index("ix_conversation_started_at", "conversation")
