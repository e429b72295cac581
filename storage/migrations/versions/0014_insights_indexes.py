"""indexes for the insights: one covering index on messages (replacing the created_at one), and the time ranges of
conversations started and handoffs requested and closed

Revision ID: 0014
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INSIGHTS_COLUMNS = [
    "created_at",
    "direction",
    "decision",
    "language",
    "platform",
    "emotion_label",
    "emotion_intensity",
    "faq_id",
    "customer_id",
    "conversation_id",
]


def upgrade() -> None:
    op.create_index("ix_message_insights", "message", INSIGHTS_COLUMNS)
    op.drop_index("ix_message_created_at", "message")
    op.create_index("ix_conversation_started_at", "conversation", ["started_at"])
    op.create_index("ix_handoff_requested_at", "handoff", ["requested_at"])
    op.create_index("ix_handoff_resolved_at", "handoff", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_handoff_resolved_at", "handoff")
    op.drop_index("ix_handoff_requested_at", "handoff")
    op.drop_index("ix_conversation_started_at", "conversation")
    op.create_index("ix_message_created_at", "message", ["created_at"])
    op.drop_index("ix_message_insights", "message")
