"""The message path: dedup → identify → language → emotion → retrieve → decide → reply → log.

Platform-free and async; adapters hand in an InboundMessage and deliver the OutboundMessages back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot import policy
from bot.business_profile import BusinessProfile
from bot.emotion.base import ConversationContext, EmotionTag, EmotionTagger, PastTurn
from bot.emotion_watch import EmotionWatch
from bot.followup import Followups
from bot.handoff.service import HandoffService, HandoffStep, since_last_handoff
from bot.keyed_lock import KeyedLock
from bot.language import clean_text, detect_language
from bot.messages import InboundMessage, OutboundMessage
from bot.outbox import Outbox, chat_of, outbox_row
from bot.policy import Decision, PlannedReply
from bot.texts import DEFAULT_TEXTS, Texts
from knowledge.embedder import query_head
from storage.conversations import ConversationLog, ConversationSnapshot, Exchange, LoggedMessage
from storage.models import ConversationState, utcnow

NEUTRAL = EmotionTag("neutral", 0.0)
UNANALYSED = EmotionTag(None, 0.0)  # the customer asked not to have their emotions analysed
OPENING_EVENTS = ("start", "subscribe")


class Interceptor(Protocol):
    """A stage that may answer a message before the knowledge base is asked (commands, account linking...)."""

    def intercept(
        self, message: InboundMessage, text: str, language: str, snapshot: ConversationSnapshot
    ) -> PlannedReply | None: ...


@dataclass(slots=True)
class EngineReply:
    replies: list[OutboundMessage]
    language: str
    decision: str | None = None
    emotion: EmotionTag | None = None
    faq_id: str | None = None
    score: float | None = None
    customer_id: int | None = None
    conversation_id: int | None = None
    duplicate: bool = False
    handoff_id: int | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    delivery_started: bool = False  # the outbox was handed the queued reply already (no wake needed)


class Engine:
    def __init__(
        self,
        *,
        log: ConversationLog,
        knowledge,  # knowledge.base.KnowledgeBase
        embedder,  # knowledge.embedder.Embedder
        tagger: EmotionTagger,
        default_language: str = "en",
        max_message_chars: int = 2000,
        embed_max_tokens: int | None = None,
        before_message: Callable[[], None] | None = None,
        interceptors: list[Interceptor] | None = None,
        handoff: HandoffService | None = None,
        outbox: Outbox | None = None,
        emotion_watch: EmotionWatch | None = None,
        texts: Texts = DEFAULT_TEXTS,
        locks: KeyedLock | None = None,
        profile: BusinessProfile | None = None,
    ) -> None:
        self._log = log
        self._knowledge = knowledge
        self._embedder = embedder
        self._tagger = tagger
        self._default_language = default_language
        self._max_chars = max_message_chars
        self._embed_tokens = embed_max_tokens
        self._before_message = before_message
        self._locks = locks or KeyedLock()  # one customer's messages one at a time (SharedKeyedLock: all processes)
        self.interceptors: list[Interceptor] = list(interceptors or [])
        self.handoff = handoff
        self.outbox = outbox
        self.emotion_watch = emotion_watch
        self.texts = texts
        self.composer = None  # bot.llm.answers.GroundedAnswers in LLM mode (README "LLM mode"), else offline only
        self.profile = profile or BusinessProfile.default()
        self.followups: Followups | None = None
        self.privacy = None  # bot.privacy.DataRights: data requests, answered first (also while held for an agent)
        self.clarify_picks = None  # bot.clarify_drafts.ClarifyPicks: a pressed choice proposes the wording as a draft

    def welcome(self, language: str | None = None) -> str:
        language = language or self._default_language
        return self.texts.say("greeting", language).format(
            bot_name=self.profile.name(language), topics=self.profile.topics(language)
        )

    async def chat_event(self, message: InboundMessage, event: str, *, queue_replies: bool = False) -> EngineReply:
        """The platform says a customer opened a chat with the bot (Telegram /start, WeChat subscribe) or left it
        (unsubscribe): logged like a message; an opening is answered with the greeting and the privacy notice."""
        async with self._locks.hold((message.platform, message.platform_user_id)):
            reply = await asyncio.to_thread(self._chat_event_sync, message, event, queue_replies)
            if queue_replies and reply.replies and self.outbox:
                self.outbox.wake(chat_of(reply.replies[0]))
            return reply

    def _chat_event_sync(self, message: InboundMessage, event: str, queue_replies: bool) -> EngineReply:
        language = message.language_hint or self._default_language
        opens = event in OPENING_EVENTS
        if self.privacy and (asked := self.privacy.opening(message, opens, language, queue_replies)):
            return asked  # strict consent: the consent question, and nothing stored
        texts = [self.welcome(language), self.texts.say("privacy_notice", language)] if event in OPENING_EVENTS else []
        replies = [
            OutboundMessage(
                message.platform, message.platform_user_id, text, language, chat_id=message.chat_id, kind=kind
            )
            for kind, text in zip(("welcome", "privacy"), texts, strict=False)
        ]
        exchange = self._record(
            message,
            LoggedMessage(
                "in",
                message.text or f"[{event}]",
                language=message.language_hint,  # remembered, so a photo sent next is answered in it too
                platform_message_id=message.message_id,
                decision=event,
            ),
            [LoggedMessage("out", r.text, language=language, decision=event) for r in replies],
            replies if queue_replies else [],
            event,
        )
        if self.privacy and replies and not exchange.duplicate:  # the privacy notice's version, and when
            self.privacy.notice_shown(exchange.customer_id)
        return EngineReply(
            [] if exchange.duplicate else replies,
            language,
            decision=event,
            customer_id=exchange.customer_id,
            conversation_id=exchange.conversation_id,
            duplicate=exchange.duplicate,
        )

    async def handle(self, message: InboundMessage, *, queue_replies: bool = False) -> EngineReply:
        """Answer one customer message; messages of one customer are handled in arrival order.

        With `queue_replies` the replies go to the outbox in the same transaction that logs the message
        (platforms that deliver asynchronously); otherwise the caller delivers `EngineReply.replies` itself.
        """
        async with self._locks.hold((message.platform, message.platform_user_id)):
            reply = await asyncio.to_thread(self.handle_sync, message, queue_replies)
            if queue_replies and reply.replies and self.outbox and not reply.delivery_started:
                self.outbox.wake(chat_of(reply.replies[0]))
            if self.handoff and not reply.duplicate:  # the desks hear of it after the customer has the reply
                text = message.text or f"[{message.content_type}]"
                self.handoff.announce_soon(reply.decision, reply.handoff_id, reply.conversation_id, text)
            return reply

    def handle_sync(self, message: InboundMessage, queue_replies: bool = False) -> EngineReply:
        # While a message is answered, bulk knowledge work (an import) waits for its next step (knowledge.priority).
        gate = getattr(self._embedder, "gate", None)
        with gate.foreground() if gate is not None else contextlib.nullcontext():
            return self._handle_now(message, queue_replies)

    def _handle_now(self, message: InboundMessage, queue_replies: bool) -> EngineReply:
        started = time.perf_counter()
        text = clean_text(message.text or "")
        analysed = text[: self._max_chars]
        if self._before_message:
            self._before_message()
        snapshot = self._log.snapshot(message.platform, message.platform_user_id, message.message_id)
        fallback = message.language_hint or snapshot.language or self._default_language
        language = detect_language(text, fallback)
        if snapshot.duplicate:  # a platform's retry: nothing to embed, nothing to log
            return EngineReply([], language, duplicate=True, customer_id=snapshot.customer_id)
        if self.privacy and (
            done := self.privacy.handle(message, text, language, snapshot, queue_replies, self._record)
        ):
            return done

        emotion, plan, vector = NEUTRAL, None, None
        if message.content_type != "text":
            plan = PlannedReply(Decision.NON_TEXT, self.texts.say("non_text", language))
        elif message.choice_id:
            plan = policy.plan_choice(message.choice_id, language, self._knowledge.entry, self.texts)
        elif not text:
            plan = PlannedReply(Decision.EMPTY, self.texts.say("empty", language))
        else:
            plan = next((p for i in self.interceptors if (p := i.intercept(message, text, language, snapshot))), None)
        if snapshot.state == ConversationState.AGENT:  # a person has it; while waiting the bot still helps
            plan = PlannedReply(Decision.HELD_FOR_AGENT, "")

        timings: dict[str, float] = {}
        if text:
            # Not overlapped with the database read above: with two embedding threads the overlap was slower.
            t0 = time.perf_counter()
            # "ok never mind. how much data…": searched (and embedded) without the words that only lead in
            asked = self.followups.question(analysed).text if self.followups is not None else analysed
            vector = self._embedder.query(query_head(self._embedder, asked, self._embed_tokens))
            if self.followups is not None:  # the next message's follow-up search reuses it
                self.followups.remember(analysed, vector)
            t1 = time.perf_counter()
            analyse = self.privacy is None or self.privacy.analyses_emotions(snapshot)
            emotion = self._tagger.tag(analysed, vector, _context(snapshot)) if analyse else UNANALYSED
            t2 = time.perf_counter()
            if plan is None:
                retrieval = self._knowledge.search(asked, vector)
                if self.followups is not None and not retrieval.elsewhere:  # about something else: no follow-up
                    retrieval = self.followups.search(analysed, vector, retrieval, snapshot)
                plan = policy.plan_reply(retrieval, language, self._knowledge.entry, self.texts, self.profile.topics)
                if self.composer is not None:
                    plan = self.composer.compose(message, analysed, language, emotion, snapshot, retrieval, plan)
            t3 = time.perf_counter()
            timings = {"embed": (t1 - t0) * 1e3, "emotion": (t2 - t1) * 1e3, "retrieve": (t3 - t2) * 1e3}

        handoff = self.handoff.step(message, text, language, snapshot, emotion, plan, vector) if self.handoff else None
        plan = handoff.plan if handoff else plan
        replies = [_outbound(message, plan, language)] if plan.text else []
        exchange = self._record(
            message,
            LoggedMessage(
                "in",
                message.text or "",
                content_type=None if message.content_type == "text" else message.content_type,
                language=language,
                platform_message_id=message.message_id,
                emotion_label=emotion.label,
                emotion_intensity=emotion.intensity,
                emotion_signals=list(emotion.signals),
                faq_id=plan.faq_id or plan.likely,  # a confirm: the entry the question is likely about
                score=plan.score,
                decision=plan.decision,
            ),
            [
                LoggedMessage("out", r.text, language=language, faq_id=plan.faq_id, decision=plan.decision)
                for r in replies
            ],
            replies if queue_replies else [],
            "reply",
            snapshot,
        )
        if exchange.duplicate:
            return EngineReply([], language, duplicate=True, customer_id=exchange.customer_id)
        handoff_id = self._open_handoff(handoff, exchange.customer_id, exchange.conversation_id)
        if self.emotion_watch:
            self.emotion_watch.after_exchange(exchange.customer_id, exchange.conversation_id, emotion.label)
        if self.clarify_picks is not None:
            self.clarify_picks.noticed(
                message.choice_id, snapshot.recent, plan.decision, plan.faq_id, language, exchange.conversation_id
            )
        timings["total"] = (time.perf_counter() - started) * 1e3
        return EngineReply(
            replies,
            language,
            decision=plan.decision,
            emotion=emotion,
            faq_id=plan.faq_id,
            score=plan.score,
            customer_id=exchange.customer_id,
            conversation_id=exchange.conversation_id,
            handoff_id=handoff_id,
            timings_ms=timings,
            delivery_started=exchange.taken is not None,
        )

    def _record(
        self,
        message: InboundMessage,
        inbound: LoggedMessage,
        replies: list[LoggedMessage],
        queued: list[OutboundMessage],
        purpose: str,
        snapshot: ConversationSnapshot | None = None,
    ) -> Exchange:
        """Log the exchange; `queued` replies go to the outbox in the same transaction, keyed for dedup, and their
        chat's head is taken for sending in it too (then handed to the running outbox: no claim of its own)."""
        key = f"{purpose}:{message.platform}:{message.message_id}" if message.message_id else None
        chat = chat_of(queued[0]) if queued and self.outbox is not None else None
        exchange = self._log.record_exchange(
            message.platform,
            message.platform_user_id,
            message.chat_id,
            message.display_name,
            inbound=inbound,
            replies=replies,
            deliveries=[outbox_row(r, f"{key}:{i}" if key else None) for i, r in enumerate(queued)],
            known=snapshot,
            take_head=self.outbox.head_taker(chat) if chat is not None else None,
        )
        if exchange.taken is not None:
            # `last`: this reply alone was stored and it is the chat's head, so nothing is queued behind it
            last = len(queued) == 1 and key is not None and exchange.taken.dedup_key == f"{key}:0"
            self.outbox.send_taken(chat, exchange.taken, last=last)
        return exchange

    def _open_handoff(self, step: HandoffStep | None, customer_id: int, conversation_id: int) -> int | None:
        return self.handoff.after_logging(step, customer_id, conversation_id) if step is not None else None


def _outbound(message: InboundMessage, plan: PlannedReply, language: str) -> OutboundMessage:
    return OutboundMessage(
        platform=message.platform,
        platform_user_id=message.platform_user_id,
        chat_id=message.chat_id,
        text=plan.text,
        language=language,
        choices=list(plan.choices),
        kind=plan.shown_kind,
    )


def _context(snapshot: ConversationSnapshot) -> ConversationContext:
    turns = tuple(
        PastTurn(t.text, t.emotion_label or "neutral", t.emotion_intensity or 0.0, t.bot_decision)
        for t in since_last_handoff(snapshot.recent)
    )
    waited = (utcnow() - snapshot.last_reply_at).total_seconds() if snapshot.last_reply_at else None
    return ConversationContext(recent=turns, seconds_since_last_reply=waited)
