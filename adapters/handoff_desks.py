"""Mounting the handoff desks on the HTTP app: the web chat mailbox, the /agent console, Slack when configured."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from fastapi import APIRouter
from slack_sdk import WebClient

from adapters.agent_console import ConsoleDesk, agent_console_router
from adapters.care_api import care_router
from adapters.care_slack import attach_slack_care, care_note_reply
from adapters.console import PLATFORM as TERMINAL_PLATFORM
from adapters.slack_copies import SlackCopies
from adapters.slack_desk import slack_configured, slack_router
from adapters.slack_drafts import EditorsChannel
from adapters.staff.auth import StaffAuth
from adapters.webchat import PLATFORM as WEB_PLATFORM
from adapters.webchat_mailbox import WebChatMailbox
from bot.draft_approval import DraftApproval
from bot.faq_drafts import DraftsFromResolvedHandoffs
from bot.runtime import Runtime
from storage.nonces import NonceStore
from storage.staff import StaffRepository
from storage.staff_drafts import DraftRepository

log = logging.getLogger("warmdesk.handoff")


@dataclass
class HandoffDesks:
    mailbox: WebChatMailbox
    routers: list[APIRouter] = field(default_factory=list)
    runtime: Runtime | None = None
    editors: EditorsChannel | None = None  # drafts posted to SLACK_EDITORS_CHANNEL for approval

    @classmethod
    def open(cls, runtime: Runtime, staff: StaffAuth) -> HandoffDesks:
        mailbox = WebChatMailbox(runtime.db, WEB_PLATFORM)
        runtime.outbox.add_sender(WEB_PLATFORM, mailbox.sender)
        runtime.outbox.add_sender(TERMINAL_PLATFORM, mailbox.sender)  # `run.py chat` reads its rows as a mailbox
        desks = cls(mailbox, runtime=runtime)
        service, settings = runtime.handoff, runtime.settings
        if service is None:
            return desks
        service.desks.add(ConsoleDesk(service.repository))
        from_handoffs = DraftsFromResolvedHandoffs(service.repository, DraftRepository(runtime.db))
        service.desks.add(from_handoffs)
        copilot, copilot_routes = _copilot(runtime)
        desks.routers.append(agent_console_router(service, staff, copilot_routes))
        if runtime.care is not None:
            desks.routers.append(care_router(runtime.care, runtime.customers, staff))
        if slack_configured(settings):
            care_note = care_note_reply(runtime.care, settings.handoff_agent_language)
            router, slack = slack_router(
                service, runtime.customers, settings, NonceStore(runtime.db), care_note, copilot
            )
            service.desks.add(slack)
            written = getattr(getattr(service.after_open, "__self__", None), "written", None)
            if written is not None:  # LLM mode: the card shows the LLM summary once it is written
                written.append(slack.llm_summary_written)
            service.availability.staffed(slack.name)
            if runtime.engine.privacy is not None:  # a customer's deletion removes the bot's Slack posts too
                runtime.engine.privacy.copies[slack.name] = SlackCopies(slack.client)
            if runtime.care is not None:
                attach_slack_care(runtime.care, slack.client, settings, service.repository)
            desks.routers.append(router)
            if settings.slack_editors_channel:
                desks.editors = _editors_channel(runtime, slack.bolt)
                from_handoffs.on_draft.append(desks.editors.notify)
        else:
            log.info("Slack desk off: set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_HANDOFF_CHANNEL to use it")
        return desks

    async def watch(self, stop: asyncio.Event) -> None:
        """Re-ping unclaimed handoffs until `stop` is set."""
        if self.runtime is not None and self.runtime.handoff is not None:
            await self.runtime.handoff.watch(stop)


def _editors_channel(runtime: Runtime, bolt) -> EditorsChannel:
    settings = runtime.settings
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_base_url.rstrip("/") + "/")
    approval = DraftApproval(DraftRepository(runtime.db), runtime.faqs, runtime.knowledge)
    staff = StaffRepository(runtime.db)
    channel = EditorsChannel(
        client,
        settings.slack_editors_channel,
        approval,
        runtime.faqs,
        staff,
        runtime.customers,
        settings.slack_editor_ids,
    )
    channel.register(bolt)
    if runtime.engine.clarify_picks is not None:
        runtime.engine.clarify_picks.on_draft.append(channel.notify)
    return channel


def _copilot(runtime: Runtime):
    """The copilot and its console routes in LLM mode, else (None, None) and nothing of bot.llm is imported."""
    if runtime.llm is None or runtime.handoff is None:
        return None, None
    from adapters.agent_copilot import copilot_routes
    from bot.llm.copilot import Copilot
    from bot.llm.wiring import llm_rules, llm_summaries

    copilot = Copilot(
        runtime.llm, runtime.knowledge, runtime.embedder, runtime.handoff.repository, llm_rules(runtime.business)
    )
    summaries = llm_summaries(runtime.llm, runtime.handoff, runtime.db, runtime.business)
    return copilot, copilot_routes(copilot, runtime.handoff.repository, runtime.customers, summaries)
