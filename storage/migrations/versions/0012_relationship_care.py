"""relationship care

Revision ID: 0012
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("care_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_note_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "care_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("assignee", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("dedup_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("done_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("done_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("care_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_task_assignee"), ["assignee"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_task_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_task_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_task_status"), ["status"], unique=False)

    op.create_table(
        "customer_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ordered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "external_id"),
    )
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_order_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_order_ordered_at"), ["ordered_at"], unique=False)

    op.create_table(
        "customer_segment",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Integer(), nullable=False),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("churn_risk", sa.Boolean(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.Float(), nullable=False),
        sa.Column("last_order_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_contact_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "handoff_sla",
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("first_response_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("first_response_seconds", sa.Float(), nullable=True),
        sa.Column("breached_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("handoff_id"),
    )
    with op.batch_alter_table("handoff_sla", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_sla_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_sla_due_at"), ["due_at"], unique=False)

    op.create_table(
        "scheduled_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("scheduled_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduled_job_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduled_job_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_scheduled_job_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "staff_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("dedup_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("staff_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_inbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_inbox_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_inbox_recipient"), ["recipient"], unique=False)

    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_manager", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("opted_out_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_customer_account_manager"), ["account_manager"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_external_id"), ["external_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_external_id"))
        batch_op.drop_index(batch_op.f("ix_customer_account_manager"))
        batch_op.drop_column("opted_out_at")
        batch_op.drop_column("external_id")
        batch_op.drop_column("account_manager")

    with op.batch_alter_table("staff_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_inbox_recipient"))
        batch_op.drop_index(batch_op.f("ix_staff_inbox_customer_id"))
        batch_op.drop_index(batch_op.f("ix_staff_inbox_created_at"))

    op.drop_table("staff_inbox")
    with op.batch_alter_table("scheduled_job", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_job_status_due_at")
        batch_op.drop_index(batch_op.f("ix_scheduled_job_kind"))
        batch_op.drop_index(batch_op.f("ix_scheduled_job_customer_id"))

    op.drop_table("scheduled_job")
    with op.batch_alter_table("handoff_sla", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_sla_due_at"))
        batch_op.drop_index(batch_op.f("ix_handoff_sla_customer_id"))

    op.drop_table("handoff_sla")
    op.drop_table("customer_segment")
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_order_ordered_at"))
        batch_op.drop_index(batch_op.f("ix_customer_order_customer_id"))

    op.drop_table("customer_order")
    with op.batch_alter_table("care_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_task_status"))
        batch_op.drop_index(batch_op.f("ix_care_task_due_at"))
        batch_op.drop_index(batch_op.f("ix_care_task_customer_id"))
        batch_op.drop_index(batch_op.f("ix_care_task_assignee"))

    op.drop_table("care_task")
    with op.batch_alter_table("care_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_note_customer_id"))

    op.drop_table("care_note")
