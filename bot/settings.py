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
    max_message_chars: int = _env("WARMDESK_MAX_MESSAGE_CHARS", default=2000, ge=50)
    log_level: str = _env("WARMDESK_LOG_LEVEL", default="INFO")

    answer_threshold: float | None = _env("WARMDESK_ANSWER_THRESHOLD", default=None)
    clarify_threshold: float | None = _env("WARMDESK_CLARIFY_THRESHOLD", default=None)

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
