"""One guarded way to call the chat model: a per-call timeout inside a per-message deadline, tenacity retries on
errors worth retrying, a circuit breaker, the daily token budget, and tokens + cost logged per call.

`complete()` never raises: None means "no LLM this time" and the caller keeps the offline reply.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import openai
from langchain_core.messages import BaseMessage
from langchain_openai import ChatOpenAI
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from bot.llm.breaker import CircuitBreaker
from bot.settings import Settings
from storage.llm_usage import LlmUsageRepository
from storage.models import LlmUsage

log = logging.getLogger("warmdesk.llm")

RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
NO_KEY = "not-needed"  # local servers (Ollama, vLLM) take any key; the SDK insists on one


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    cost: float
    seconds: float


@dataclass(frozen=True, slots=True)
class CallFor:
    """What a call is logged against: the conversation (None on a first message) and the customer message."""

    conversation_id: int | None = None
    platform: str | None = None
    platform_message_id: str | None = None


NOBODY = CallFor()


def chat_model(settings: Settings, *, timeout: float | None = None, max_tokens: int | None = None) -> ChatOpenAI:
    """langchain-openai's chat model on any OpenAI-compatible endpoint. Retries are ours (tenacity), not the SDK's,
    so that every try fits in the message's deadline."""
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or NO_KEY,
        timeout=timeout or settings.llm_timeout_seconds,
        max_retries=0,
        temperature=settings.llm_temperature,
        max_tokens=max_tokens or settings.llm_max_output_tokens,
    )


class LlmClient:
    def __init__(
        self,
        settings: Settings,
        usage: LlmUsageRepository,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], str] | None = None,
        model: ChatOpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        self.settings = settings
        self._model = model or chat_model(settings)
        self._usage = usage
        # The usage row is written by one background thread: a SQLite commit costs milliseconds the customer
        # should not wait for. The in-memory day total (the budget) is updated at once.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-usage")
        self._clock = clock
        self._today = today or (lambda: datetime.now(UTC).date().isoformat())
        self.breaker = CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_seconds, clock)
        self._lock = threading.Lock()
        self._day = self._today()
        self._spent = usage.tokens_on(self._day)  # several workers share the budget through the table

    @property
    def tokens_today(self) -> int:
        with self._lock:
            self._roll_day()
            return self._spent

    def over_budget(self) -> bool:
        budget = self.settings.llm_daily_token_budget
        return bool(budget) and self.tokens_today >= budget

    def complete(self, messages: list[BaseMessage], purpose: str, who: CallFor = NOBODY) -> Completion | None:
        if self.over_budget():
            log.info(
                "llm %s skipped: the daily token budget (%d) is spent", purpose, self.settings.llm_daily_token_budget
            )
            return None
        if not self.breaker.allow():
            log.info("llm %s skipped: the circuit breaker is open", purpose)
            return None
        started = self._clock()
        try:
            reply = self._retrying(started)(self._model.invoke, messages)
        except Exception as error:  # the customer never sees an LLM error: the offline reply stands
            self.breaker.failed()
            log.warning("llm %s failed after %.2f s: %s", purpose, self._clock() - started, type(error).__name__)
            self._record(purpose, who, 0, 0, "error")
            return None
        self.breaker.succeeded()
        usage = getattr(reply, "usage_metadata", None) or {}
        input_tokens, output_tokens = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        cost = self._record(purpose, who, input_tokens, output_tokens, "ok")
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        return Completion(text, input_tokens, output_tokens, cost, self._clock() - started)

    def note_rejected(self, purpose: str, who: CallFor) -> None:
        """A reply that failed the grounding check: counted (with no tokens, they were counted already)."""
        self._record(purpose, who, 0, 0, "rejected")

    def _retrying(self, started: float) -> Retrying:
        retries, timeout, deadline = (
            self.settings.llm_max_retries,
            self.settings.llm_timeout_seconds,
            self.settings.llm_deadline_seconds,
        )

        def stop(state: RetryCallState) -> bool:  # no try that could end past the message's deadline
            return state.attempt_number > retries or self._clock() - started + timeout > deadline

        return Retrying(
            stop=stop,
            wait=wait_exponential(multiplier=0.1, max=0.5),
            retry=retry_if_exception_type(RETRYABLE),
            reraise=True,
            sleep=self._sleep,
        )

    def _record(self, purpose: str, who: CallFor, input_tokens: int, output_tokens: int, outcome: str):
        cost = (
            input_tokens * self.settings.llm_input_price_per_million
            + output_tokens * self.settings.llm_output_price_per_million
        ) / 1e6
        with self._lock:
            self._roll_day()
            self._spent += input_tokens + output_tokens
            day = self._day
        self._writer.submit(
            self._store,
            dict(
                day=day,
                purpose=purpose,
                model=self.settings.llm_model or "",
                conversation_id=who.conversation_id,
                platform=who.platform,
                platform_message_id=who.platform_message_id,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=cost,
                outcome=outcome,
            ),
        )
        if outcome == "ok":
            log.info(
                "llm %s: %d+%d tokens, cost %.6f; today %d tokens",
                purpose,
                input_tokens,
                output_tokens,
                cost,
                self._spent,
            )
        return cost

    def flush(self) -> None:
        """Wait until every usage row so far is written (tests, shutdown)."""
        self._writer.submit(lambda: None).result()

    def _store(self, fields: dict) -> None:  # the row is built here too: a SQLModel costs ~0.1 ms to construct
        try:
            self._usage.add(LlmUsage(**fields))
        except Exception as error:  # a lost usage row must not break anything; the budget is counted in memory
            log.warning("llm usage row not written: %s", type(error).__name__)

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._spent = today, self._usage.tokens_on(today)
