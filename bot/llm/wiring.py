"""Builds the LLM parts from the settings; imported by the runtime only when an LLM is configured."""

from __future__ import annotations

import logging

from bot.business import BusinessFile, BusinessFileError
from bot.llm.answers import GroundedAnswers
from bot.llm.client import LlmClient
from bot.llm.grounding import LlmRules
from bot.llm.summary import LlmSummaries
from bot.settings import Settings
from bot.texts import Texts
from storage.db import Database
from storage.llm_usage import LlmUsageRepository

log = logging.getLogger("warmdesk.llm")


def llm_rules(business: BusinessFile) -> LlmRules:
    try:
        return LlmRules(**business.section("llm"))
    except ValueError as error:
        raise BusinessFileError(f"business file [llm]: {error}") from error


def open_llm(settings: Settings, db: Database) -> LlmClient:
    client = LlmClient(settings, LlmUsageRepository(db))
    log.info("LLM mode on: model %s at %s", settings.llm_model, settings.llm_base_url or "OpenAI")
    return client


def grounded_answers(client: LlmClient, knowledge, texts: Texts, business: BusinessFile) -> GroundedAnswers:
    return GroundedAnswers(
        client, knowledge.entry, texts, llm_rules(business), mask=client.settings.llm_mask_personal_data
    )


def llm_summaries(client: LlmClient, handoff, db: Database, business: BusinessFile) -> LlmSummaries:
    return LlmSummaries(client, handoff.repository, db, handoff.settings.agent_language, llm_rules(business))
