"""staff accounts, sessions, login throttling, editors' KB regression tests, FAQ drafts from traffic

Revision ID: 0011
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "staff_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _TEXT(), nullable=False),
        sa.Column("password_hash", _TEXT(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("disabled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("password_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "staff_session",
        sa.Column("token_hash", _TEXT(), nullable=False),
        sa.Column("staff_name", _TEXT(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("csrf_token", _TEXT(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_staff_session_staff_name", "staff_session", ["staff_name"])
    op.create_index("ix_staff_session_expires_at", "staff_session", ["expires_at"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _TEXT(), nullable=False),
        sa.Column("address", _TEXT(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failure_name", "login_failure", ["name"])
    op.create_index("ix_login_failure_address", "login_failure", ["address"])
    op.create_index("ix_login_failure_created_at", "login_failure", ["created_at"])
    op.create_table(
        "kb_test_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("expected_faq_id", _TEXT(), nullable=False),
        sa.Column("author", _TEXT(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("question", "expected_faq_id"),
    )
    op.create_index("ix_kb_test_case_expected_faq_id", "kb_test_case", ["expected_faq_id"])
    op.create_table(
        "faq_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("language", _TEXT(), nullable=False),
        sa.Column("normalized", _TEXT(), nullable=False),
        sa.Column("source", _TEXT(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", _TEXT(), nullable=False),
        sa.Column("faq_id", _TEXT(), nullable=True),
        sa.Column("decided_by", _TEXT(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_faq_draft_normalized", "faq_draft", ["normalized"])
    op.create_index("ix_faq_draft_status", "faq_draft", ["status"])


def downgrade() -> None:
    op.drop_table("faq_draft")
    op.drop_table("kb_test_case")
    op.drop_table("login_failure")
    op.drop_table("staff_session")
    op.drop_table("staff_account")
