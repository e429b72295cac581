"""Settings → a ready HandoffService (triggers, business hours, agent language)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.business import BusinessFile, load_business_file
from bot.business_profile import BusinessSection, business_section
from bot.handoff.availability import Availability, DeskSettings
from bot.handoff.desk import Desks
from bot.handoff.hours import parse_business_hours
from bot.handoff.service import HandoffService, HandoffSettings
from bot.handoff.triggers import DEFAULT_KEYWORDS, Triggers, TriggerSettings
from bot.handoff.waiting import Withdrawal
from bot.outbox import Outbox
from bot.settings import Settings
from bot.social import SocialMatcher, social_settings
from bot.texts import Texts
from storage.db import Database
from storage.handoffs import HandoffRepository
from storage.presence import PresenceStore


def trigger_settings(settings: Settings, business: BusinessFile | None = None) -> TriggerSettings:
    extra_keywords = tuple(_items(settings.handoff_keywords))
    return TriggerSettings(
        topic_phrases=sensitive_phrases(business.section("sensitive")) if business is not None else {},
        keywords=DEFAULT_KEYWORDS + extra_keywords,
        anger_threshold=settings.handoff_anger_threshold,
        negative_window=settings.handoff_negative_window,
        negative_count=settings.handoff_negative_count,
        negative_min_intensity=settings.handoff_negative_min_intensity,
        failed_turns=settings.handoff_failed_turns,
        repeat_similarity=settings.handoff_repeat_similarity,
        sensitive_topics=tuple(_items(settings.handoff_sensitive_topics)),
        complaint_threshold=settings.handoff_complaint_threshold,
        vip_tiers=frozenset(item.lower() for item in _items(settings.handoff_vip_tiers)),
        vip_discount=settings.handoff_vip_discount,
    )


def handoff_settings(settings: Settings, business: BusinessSection | None = None) -> HandoffSettings:
    """Business hours: WARMDESK_HANDOFF_BUSINESS_HOURS when set, else the business file's [business] hours."""
    hours, timezone = settings.handoff_business_hours, settings.handoff_timezone
    if not hours.strip() and business is not None:
        hours = business.hours
        if "handoff_timezone" not in settings.model_fields_set:
            timezone = business.timezone
    return HandoffSettings(
        enabled=settings.handoff_enabled,
        agent_language=settings.handoff_agent_language,
        wait_minutes=settings.handoff_wait_minutes,
        hours=parse_business_hours(hours, timezone),
        check_seconds=settings.handoff_check_seconds,
    )


def open_handoff_service(
    settings: Settings,
    db: Database,
    outbox: Outbox,
    knowledge,
    texts: Texts,
    business: BusinessFile | None = None,
    topics: Callable[[str], str] = lambda language: "",
) -> HandoffService:
    """`knowledge` is a knowledge.base.KnowledgeBase; used for the titles of FAQs the bot already answered."""

    def faq_title(faq_id: str, language: str) -> str | None:
        entry = knowledge.entry(faq_id)
        return entry.title(language) if entry else None

    business = business or load_business_file()
    service_settings = handoff_settings(settings, business_section(business))
    desk = DeskSettings.model_validate(business.section("desk"))
    return HandoffService(
        HandoffRepository(db),
        outbox,
        Triggers(trigger_settings(settings, business), SocialMatcher(social_settings(business.section("social"))).asks),
        service_settings,
        Desks(),
        faq_title=faq_title,
        texts=texts,
        availability=Availability(
            service_settings.hours, timedelta(minutes=desk.presence_minutes), store=PresenceStore(db)
        ),
        withdrawal=Withdrawal(desk.withdraw_phrases()),
        topics=topics,
    )


def sensitive_phrases(section: dict) -> dict[str, tuple[str, ...]]:
    """[sensitive.<topic>] en = [...], zh = [...] → topic -> phrases of every language; a typo is refused."""
    topics = {}
    for topic, languages in section.items():
        if not isinstance(languages, dict) or not all(
            isinstance(items, list) and all(isinstance(p, str) for p in items) for items in languages.values()
        ):
            raise ValueError(f'[sensitive.{topic}] must hold lists of phrases per language, e.g. en = ["..."]')
        topics[topic] = tuple(phrase for items in languages.values() for phrase in items)
    return topics


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
