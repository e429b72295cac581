"""data rights: privacy preferences and consent, one-time requests, deletion receipts, retention runs

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "customer_privacy",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("emotion_analysis", sa.Boolean(), nullable=False),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("notice_version", _text(), nullable=True),
        sa.Column("notice_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("consent", _text(), nullable=True),
        sa.Column("consent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "privacy_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", _text(), nullable=False),
        sa.Column("token_hash", _text(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_privacy_request_customer_id", "privacy_request", ["customer_id"])
    op.create_index("ix_privacy_request_expires_at", "privacy_request", ["expires_at"])
    op.create_table(
        "deletion_receipt",
        sa.Column("id", _text(), nullable=False),
        sa.Column("reason", _text(), nullable=False),
        sa.Column("message_key", _text(), nullable=True),
        sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key"),
    )
    op.create_index("ix_deletion_receipt_deleted_at", "deletion_receipt", ["deleted_at"])
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cutoff", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("messages_deleted", sa.Integer(), nullable=False),
        sa.Column("customers_deleted", sa.Integer(), nullable=False),
        sa.Column("held_customers", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("ran_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("retention_run")
    op.drop_index("ix_deletion_receipt_deleted_at", table_name="deletion_receipt")
    op.drop_table("deletion_receipt")
    op.drop_index("ix_privacy_request_expires_at", table_name="privacy_request")
    op.drop_index("ix_privacy_request_customer_id", table_name="privacy_request")
    op.drop_table("privacy_request")
    op.drop_table("customer_privacy")
