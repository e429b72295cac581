"""The CRM schema. All times are timezone-aware UTC. Schema changes go through Alembic (storage/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


MAX_DISPLAY_NAME_CHARS = 100  # a platform profile name can be anything; agents see it in every summary


def capped_name(name: str | None) -> str | None:
    """A display name as stored: at most MAX_DISPLAY_NAME_CHARS characters."""
    return name[:MAX_DISPLAY_NAME_CHARS] if name else name


class ConversationState:
    BOT = "bot"
    WAITING_AGENT = "waiting_agent"
    AGENT = "agent"
    CLOSED = "closed"


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = None
    tier: str = "standard"
    language: str | None = None
    email: str | None = Field(default=None, index=True)
    phone: str | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    # Relationship care (bot/care): who looks after this customer, their id in the business's own system,
    # and since when they asked for no proactive messages.
    account_manager: str | None = Field(default=None, index=True)
    external_id: str | None = Field(default=None, unique=True, index=True)
    opted_out_at: datetime | None = None


class Identity(SQLModel, table=True):
    """One account of a customer on one platform; a customer may have several."""

    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    platform: str
    platform_user_id: str
    display_name: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    platform: str
    chat_id: str | None = None
    state: str = Field(default=ConversationState.BOT, index=True)
    assigned_agent: str | None = None
    at_risk: bool = False  # set by the emotion rules (e.g. three negative messages in a row)
    started_at: datetime = Field(default_factory=utcnow, index=True)  # the insights' ranges
    last_message_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


# Every insights query reads messages by time with these columns: one index that covers them all serves those
# reads without touching the table, and replaces the plain created_at index, so a logged message still updates
# as many indexes as before.
MESSAGE_INSIGHTS_COLUMNS = (
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
)


class Message(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("platform", "platform_message_id"),
        Index("ix_message_insights", *MESSAGE_INSIGHTS_COLUMNS),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    direction: str  # "in" from the customer, "out" to the customer
    platform: str
    platform_message_id: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    content_type: str | None = None  # what a customer sent instead of text ("photo", "voice"...); None for text
    language: str | None = None
    emotion_label: str | None = None
    emotion_intensity: float | None = None
    emotion_signals: list[str] | None = Field(default=None, sa_column=Column(JSON))
    faq_id: str | None = Field(default=None, index=True)
    score: float | None = None
    decision: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def shown_text(self) -> str:
        """The text as people read it in histories: "[photo] its caption" for what was not text."""
        return f"[{self.content_type}] {self.text}".rstrip() if self.content_type else self.text


class FaqRecord(SQLModel, table=True):
    """The live version of a FAQ entry; the source of truth the vector index is built from."""

    __tablename__ = "faq_entry"

    id: str = Field(primary_key=True)
    questions: list[str] = Field(sa_column=Column(JSON, nullable=False))
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answer_zh: str | None = Field(default=None, sa_column=Column(Text))
    answer_en: str | None = Field(default=None, sa_column=Column(Text))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    revision: int = 1
    updated_at: datetime = Field(default_factory=utcnow)


class FaqRevision(SQLModel, table=True):
    """Every change to a FAQ entry, with its full content, so history and rollback work."""

    __tablename__ = "faq_revision"
    __table_args__ = (UniqueConstraint("faq_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    faq_id: str = Field(index=True)
    revision: int
    action: str  # create | update | remove | rollback
    content: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    author: str
    note: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Handoff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    reason: str
    evidence: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    summary: str | None = Field(default=None, sa_column=Column(Text))
    status: str = "requested"  # requested | claimed | resolved
    agent: str | None = None
    rating: int | None = None
    requested_at: datetime = Field(default_factory=utcnow, index=True)  # the insights' ranges
    claimed_at: datetime | None = None
    resolved_at: datetime | None = Field(default=None, index=True)
    outcome: str | None = None  # resolved | returned_to_bot
    reminded_at: datetime | None = None  # when the customer was told about a long wait


class DeskThread(SQLModel, table=True):
    """Where a desk shows one handoff (a Slack card: channel + message ts), so replies find their handoff.

    Deliberately no foreign key: it outlives a handoff deleted with its customer's data, so an agent replying
    in that thread is told the customer is gone (it holds no personal data).
    """

    __tablename__ = "desk_thread"
    __table_args__ = (UniqueConstraint("desk", "handoff_id"), UniqueConstraint("desk", "channel", "thread_id"))

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(index=True)
    desk: str
    channel: str
    thread_id: str
    created_at: datetime = Field(default_factory=utcnow)


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    author: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """Who looked at or changed what; kept when a customer's own data is deleted."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    actor: str
    action: str
    target: str | None = None
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class OutboxStatus:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    """A message to a customer, stored before it is sent so that nothing is lost when a platform hiccups."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_chat_queue", "status", "platform", "chat_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str | None = Field(default=None, unique=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True, ondelete="CASCADE")
    conversation_id: int | None = None
    platform: str
    platform_user_id: str
    chat_id: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str = "en"
    kind: str = "answer"
    choices: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    status: str = Field(default=OutboxStatus.PENDING, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    platform_message_id: str | None = None
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
    give_up_at: datetime | None = None  # retried until then, then failed; None: created_at + the retry window


class LinkCode(SQLModel, table=True):
    """A one-time code shown on one channel; sending it from another account links both to one customer."""

    __tablename__ = "link_code"

    code: str = Field(primary_key=True)
    platform: str
    platform_user_id: str
    expires_at: datetime = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)


class EmotionAlert(SQLModel, table=True):
    """For the account manager: this customer's emotional history needs a person's attention."""

    __tablename__ = "emotion_alert"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    reason: str
    created_at: datetime = Field(default_factory=utcnow, index=True)
    acknowledged_at: datetime | None = None


class DeskPresence(SQLModel, table=True):
    """When a console agent last used a desk, shared by every server process so that any of them can tell
    honestly whether someone can take a handoff now."""

    __tablename__ = "desk_presence"

    agent: str = Field(primary_key=True)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


class WebhookNonce(SQLModel, table=True):
    """A signed webhook request already accepted (Slack signature, WeChat nonce), shared by every server process,
    so that a captured request replayed inside its timestamp window is refused."""

    __tablename__ = "webhook_nonce"

    key: str = Field(primary_key=True)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


# -- Data rights (bot/privacy): preferences, consent, one-time requests, deletion receipts ------------------------


class CustomerPrivacy(SQLModel, table=True):
    """What a customer chose about their own data, and an admin's legal hold; deleted with the customer."""

    __tablename__ = "customer_privacy"

    customer_id: int = Field(primary_key=True, foreign_key="customer.id", ondelete="CASCADE")
    emotion_analysis: bool = True  # False after "don't analyse my emotions"
    legal_hold: bool = False  # set by an admin: retention purges and deletion requests leave the customer alone
    notice_version: str | None = None  # the privacy notice the customer was shown, and when
    notice_seen_at: datetime | None = None
    consent: str | None = None  # "given" | "withdrawn" | None (never asked or not answered)
    consent_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class PrivacyRequest(SQLModel, table=True):
    """A pending delete confirmation or a one-time export link; only the link token's SHA-256 is stored."""

    __tablename__ = "privacy_request"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    kind: str  # "delete_confirmation" | "export_link"
    token_hash: str | None = Field(default=None, unique=True)
    expires_at: datetime = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)


class DeletionReceipt(SQLModel, table=True):
    """That a customer's data was deleted, and when: what is left once it is gone (no customer id, no name).

    `message_key` is a hash of the platform message that confirmed it, so a platform's retry of that message
    deletes nothing more and sends no second receipt.
    """

    __tablename__ = "deletion_receipt"

    id: str = Field(primary_key=True)
    reason: str  # "customer_request" | "consent_withdrawn" | "staff"
    message_key: str | None = Field(default=None, unique=True)
    deleted_at: datetime = Field(default_factory=utcnow, index=True)


class RetentionRun(SQLModel, table=True):
    """One retention purge: how many rows it removed or anonymised, and figures kept without identity."""

    __tablename__ = "retention_run"

    id: int | None = Field(default=None, primary_key=True)
    cutoff: datetime
    messages_deleted: int = 0
    customers_deleted: int = 0
    held_customers: int = 0
    counts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # e.g. messages per day and language
    ran_at: datetime = Field(default_factory=utcnow)


class StaffAccount(SQLModel, table=True):
    """A person who signs in to the staff app: knowledge editors, agents, managers, admins."""

    __tablename__ = "staff_account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    password_hash: str
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    disabled_at: datetime | None = None
    password_changed_at: datetime = Field(default_factory=utcnow)


class StaffSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored, so a database leak signs nobody in."""

    __tablename__ = "staff_session"

    token_hash: str = Field(primary_key=True)
    staff_name: str = Field(index=True)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class LoginFailure(SQLModel, table=True):
    """A wrong sign-in, kept for the throttling window (per name and per address, across processes)."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    address: str = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class KbTestCase(SQLModel, table=True):
    """An editor's regression test: this customer question must be answered with that entry."""

    __tablename__ = "kb_test_case"
    __table_args__ = (UniqueConstraint("question", "expected_faq_id"),)

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(sa_column=Column(Text, nullable=False))
    expected_faq_id: str = Field(index=True)
    author: str
    created_at: datetime = Field(default_factory=utcnow)


class FaqDraft(SQLModel, table=True):
    """A proposed FAQ entry from traffic (an agent's answer to a customer's question); pending until an editor
    approves it (it becomes an entry) or rejects it. Never shown to customers while pending."""

    __tablename__ = "faq_draft"

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(sa_column=Column(Text, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))
    language: str = "en"
    normalized: str = Field(index=True)  # the question without case, spaces or punctuation: the dedup key
    source: str  # e.g. "handoff:12", "clarify:34"
    # "entry": a new entry (question + agent's answer); "question": `question` as another wording of `faq_id`
    kind: str = Field(default="entry", sa_column_kwargs={"server_default": "entry"})
    count: int = 1  # how many resolved handoffs proposed the same question
    status: str = Field(default="pending", index=True)  # pending | approved | rejected
    faq_id: str | None = None  # the entry it became (for kind "question": the entry it is proposed for)
    decided_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class KbGapDecision(SQLModel, table=True):
    """What an editor did with a question in the gap queue (attached, drafted as an entry, dismissed): decided
    questions leave the queue; the same question asked again later is a new row and comes back."""

    __tablename__ = "kb_gap_decision"

    message_id: int = Field(primary_key=True)  # no foreign key: a forgotten customer's messages go, this stays
    action: str  # attached | drafted | dismissed
    faq_id: str | None = None
    decided_by: str
    decided_at: datetime = Field(default_factory=utcnow)


# -- relationship care (bot/care) ----------------------------------------------------------------------------


class JobStatus:
    PENDING = "pending"
    RUNNING = "running"  # claimed by a worker until `lease_until`; an expired lease makes it claimable again
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ScheduledJob(SQLModel, table=True):
    """Work to do at a time: a follow-up, a notification, the nightly segments. Claimed with a lease, done once."""

    __tablename__ = "scheduled_job"
    __table_args__ = (Index("ix_scheduled_job_status_due_at", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedup_key: str | None = Field(default=None, unique=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True, ondelete="CASCADE")
    status: str = Field(default=JobStatus.PENDING)
    due_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    max_attempts: int = 6
    lease_until: datetime | None = None
    claimed_by: str | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str | None = None  # what the handler did: "sent", "task", "skipped: opted out"...
    created_by: str = "system"
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class CustomerOrder(SQLModel, table=True):
    __tablename__ = "customer_order"
    __table_args__ = (UniqueConstraint("customer_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    external_id: str
    ordered_at: datetime = Field(index=True)
    amount: float


class CustomerSegment(SQLModel, table=True):
    """The nightly RFM scores of one customer (1-5 each, 5 best) and the tier and segment they give."""

    __tablename__ = "customer_segment"

    customer_id: int = Field(primary_key=True, foreign_key="customer.id", ondelete="CASCADE")
    recency: int
    frequency: int
    monetary: int
    tier: str
    segment: str
    churn_risk: bool = False
    orders: int = 0
    total_amount: float = 0.0
    last_order_at: datetime | None = None
    last_contact_at: datetime | None = None
    computed_at: datetime = Field(default_factory=utcnow)


class CareTask(SQLModel, table=True):
    """Something a person must do for a customer (call back, check the refund), with a due date."""

    __tablename__ = "care_task"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True, ondelete="CASCADE")
    kind: str
    title: str
    detail: str | None = Field(default=None, sa_column=Column(Text))
    assignee: str | None = Field(default=None, index=True)
    status: str = Field(default="open", index=True)  # open | done
    due_at: datetime = Field(default_factory=utcnow, index=True)
    dedup_key: str | None = Field(default=None, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    done_by: str | None = None
    message: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # {key, values}: shown per language


class InboxItem(SQLModel, table=True):
    """A notice for one staff member (an account manager's alert), kept until read."""

    __tablename__ = "staff_inbox"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True, ondelete="CASCADE")
    kind: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    dedup_key: str | None = Field(default=None, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    read_at: datetime | None = None
    message: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # {key, values}: shown per language


class StaffNoticeCopy(SQLModel, table=True):
    """Where a staff notice about a customer was posted outside the database (a Slack message), so deleting the
    customer's data deletes it there too."""

    __tablename__ = "staff_notice_copy"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    desk: str
    channel: str
    message_id: str


class HandoffSla(SQLModel, table=True):
    """First-response figures of one handoff: the target, when a person first answered, whether it was breached."""

    __tablename__ = "handoff_sla"

    handoff_id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    requested_at: datetime
    due_at: datetime = Field(index=True)
    first_response_at: datetime | None = None
    first_response_seconds: float | None = None  # business-hours seconds from request to first answer
    breached_at: datetime | None = None


class CareNote(SQLModel, table=True):
    """A personal note an agent leaves after solving a problem, shown first at the customer's next contact."""

    __tablename__ = "care_note"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    handoff_id: int | None = None
    author: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class LlmUsage(SQLModel, table=True):
    """One call to the optional LLM (bot/llm/): its tokens and cost, for the daily budget and the bill."""

    __tablename__ = "llm_usage"

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(index=True)  # UTC date, YYYY-MM-DD: the budget's unit
    purpose: str  # answer, summary, suggest, translate
    model: str
    conversation_id: int | None = Field(default=None, index=True)  # None on a customer's very first message
    platform: str | None = None
    platform_message_id: str | None = Field(default=None, index=True)  # the customer message it answered
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    outcome: str = "ok"  # ok, rejected (failed the grounding check), error
    created_at: datetime = Field(default_factory=utcnow)


class InsightQuestion(SQLModel, table=True):
    """Rollup for the insights: one customer question's outcome, once it is final (24 h after it was asked):
    whether the bot resolved it and whether it repeated one of the customer's last 24 h. Filled by
    `bot.insights.rollups` (the `insights rollup` job), never by the message path."""

    __tablename__ = "insight_question"

    message_id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(index=True)
    language: str | None = None
    platform: str
    answered: bool
    resolved: bool
    repeated: bool


class InsightConversation(SQLModel, table=True):
    """Rollup for the insights: one conversation's emotion outcomes (bot only / before / after its first
    handoff), over its tagged customer messages and handoffs up to the rollup's watermark; `first_at` and
    `last_at` span them, so a report uses the row only for a conversation wholly inside its range."""

    __tablename__ = "insight_conversation"

    conversation_id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    platform: str
    first_at: datetime
    last_at: datetime = Field(index=True)
    outcomes: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [group, converted, s]


class InsightRollupState(SQLModel, table=True):
    """How far the insights rollups are complete: every question and conversation event before `until`."""

    __tablename__ = "insight_rollup_state"

    name: str = Field(primary_key=True)
    until: datetime
    updated_at: datetime = Field(default_factory=utcnow)
