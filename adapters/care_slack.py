"""Relationship care in Slack: staff notices (an account manager's DM, the care and SLA channels), the "add a
personal care note?" prompt in a resolved handoff's thread, and `note: ...` replies there saved as care notes.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_blocks import agent_mrkdwn, escape
from bot.care.alerts import Posted
from bot.care.notes import CareNoteError
from bot.care.staff_texts import staff_say
from bot.care.wiring import Care
from bot.handoff.desk import Ticket
from bot.settings import Settings
from storage.handoffs import HandoffRepository

log = logging.getLogger("warmdesk.slack")

DESK = "slack"


class SlackRateLimited(Exception):
    """Slack said to slow down (about one message per second per channel); the notify job retries later."""


class SlackNotifier:
    def __init__(self, client: AsyncWebClient, care_channel: str, sla_channel: str) -> None:
        self.client = client
        self.channels = {"care": care_channel, "sla": sla_channel}

    async def notify(self, recipient: str | None, text: str, channel: str = "care") -> Posted:
        desk, _, user = (recipient or "").partition(":")
        if desk == "slack" and user:
            target, shown = user, escape(text)  # a DM from the bot to the account manager
        else:
            target = self.channels.get(channel, self.channels["care"])
            shown = f"{agent_mrkdwn(recipient)}: {escape(text)}" if recipient else escape(text)
        try:
            response = await self.client.chat_postMessage(channel=target, text=shown)
        except SlackApiError as error:
            if error.response.status_code == 429:
                raise SlackRateLimited(str(error.response.get("error"))) from error
            raise
        # A DM is posted to a user id; Slack answers with the DM channel, which chat.delete needs.
        return Posted(f"slack: posted to {target}", DESK, response.get("channel") or target, response.get("ts"))


def attach_slack_care(care: Care, client: AsyncWebClient, settings: Settings, handoffs: HandoffRepository) -> None:
    care_channel = settings.slack_care_channel or settings.slack_handoff_channel
    care.alerts.notifier = SlackNotifier(client, care_channel, settings.slack_sla_channel or care_channel)
    language = settings.handoff_agent_language

    async def ask_for_a_care_note(ticket: Ticket, agent: str | None) -> None:
        thread = handoffs.thread_for(ticket.handoff_id, DESK)
        if thread is None or ticket.outcome != "resolved" or agent is None:
            return
        await client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_id, text=staff_say("care_note_prompt", language)
        )

    care.desk.on_resolved.append(ask_for_a_care_note)


def care_note_reply(care: Care | None, language: str):
    """For the Slack desk's thread replies: a `note: ...` reply on a resolved handoff is a care note. Returns the
    answer for the agent, or None when the reply is not a care note (the desk handles it as usual)."""

    async def take(handoff_id: int, agent: str, text: str) -> str | None:
        if care is None:
            return None
        note = care.notes.note_in(text)
        handoff = care.followups.handoffs.get(handoff_id)
        if note is None or handoff is None or handoff.status != "resolved":
            return None
        try:
            care.notes.add(handoff_id, agent, note)
        except CareNoteError as error:
            return str(error)
        return staff_say("care_note_saved", language)

    return take
