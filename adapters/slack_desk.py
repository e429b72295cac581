"""The Slack desk: slack-bolt in HTTP mode on the app's own server at POST /slack/events.

Each handoff is a Block Kit card in SLACK_HANDOFF_CHANNEL (Claim / Resolve / Return to bot / Ask for help);
customer messages are mirrored into the card's thread and the claiming agent's thread replies go to the
customer through the outbox. Bolt verifies the signing secret and refuses stale timestamps; an exact replay
of a signed request inside the five-minute window is refused here too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_blocks import (
    CLAIM,
    HELP,
    RESOLVE,
    RETURN,
    SUGGEST,
    TAKE_OVER,
    agent_mrkdwn,
    card_title,
    escape,
    handoff_card,
    take_over_prompt,
    unescape,
)
from adapters.slack_drafts import APPROVE as DRAFT_APPROVE
from adapters.slack_drafts import REJECT as DRAFT_REJECT
from adapters.slack_staff import StaffCommands
from bot.handoff.agent_texts import agent_say
from bot.handoff.desk import Ticket
from bot.handoff.service import ActionResult, HandoffService, Outcome, ResolveOutcome
from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.db import off_loop, row_id
from storage.handoffs import HandoffRepository
from storage.nonces import NonceStore

log = logging.getLogger("warmdesk.slack")

DESK = "slack"
REPLAY_WINDOW_SECONDS = 60 * 5


def slack_configured(settings: Settings) -> bool:
    return bool(settings.slack_bot_token and settings.slack_signing_secret and settings.slack_handoff_channel)


class SlackDesk:
    """The Desk protocol for Slack: cards, thread mirrors and notices through the Web API."""

    name = DESK

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        repository: HandoffRepository,
        language: str = "en",
        supervisor_group: str | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self._repository = repository
        self._language = language
        self._supervisors = f"<!subteam^{supervisor_group}>" if supervisor_group else "<!here>"
        self.suggest_button = False  # LLM mode: cards offer "Suggest a reply"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._summary_before_card: set[int] = set()  # LLM summaries stored while their card was being posted
        self.tickets: Callable[[int], Ticket | None] = lambda handoff_id: None  # the service's (slack_router)

    async def handoff_started(self, ticket: Ticket) -> None:
        self._loop = asyncio.get_running_loop()
        ticket = await self._with_stored_summary(ticket)  # the LLM summary may be stored by now
        posted = await self.client.chat_postMessage(
            channel=self.channel,
            text=self._fallback(ticket),
            blocks=handoff_card(ticket, self._language, self.suggest_button),
        )
        self._repository.save_thread(ticket.handoff_id, DESK, posted["channel"], posted["ts"])
        if ticket.handoff_id in self._summary_before_card:
            self._summary_before_card.discard(ticket.handoff_id)
            await self._update_card(await self._with_stored_summary(ticket))

    def llm_summary_written(self, handoff_id: int) -> None:
        """LLM mode (bot.llm.summary, from its worker thread): the handoff's summary now has the LLM's fields, so
        the card shows them. Until then, or when the LLM fails, the card shows the template summary."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._show_llm_summary(handoff_id), loop)

    async def _show_llm_summary(self, handoff_id: int) -> None:
        if await off_loop(self._repository.thread_for, handoff_id, DESK) is None:  # its card is still being posted
            self._summary_before_card.add(handoff_id)
            return
        ticket = await off_loop(self.tickets, handoff_id)
        if ticket is not None:
            try:
                await self._update_card(ticket)
            except SlackApiError as error:  # the card keeps the template summary
                log.warning("the Slack card of handoff #%d kept its template summary: %s", handoff_id, error)

    async def _with_stored_summary(self, ticket: Ticket) -> Ticket:
        handoff = await off_loop(self._repository.get, ticket.handoff_id)
        return replace(ticket, summary=handoff.summary) if handoff is not None and handoff.summary else ticket

    async def agent_claimed(self, ticket: Ticket, agent: str, via: str) -> None:
        await self._update_card(ticket)
        await self._in_thread(ticket, agent_say("notice.claimed", self._language, agent=agent_mrkdwn(agent)))

    async def agent_message(self, ticket: Ticket, agent: str, text: str, via: str) -> None:
        if via != DESK:  # Slack replies are already in the thread
            line = agent_say("mirror.agent", self._language, agent=agent_mrkdwn(agent), desk=via, text=escape(text))
            await self._in_thread(ticket, line)

    async def customer_message(self, ticket: Ticket, text: str) -> None:
        await self._in_thread(ticket, agent_say("mirror.customer", self._language, text=escape(text)))

    async def resolved(self, ticket: Ticket, agent: str | None, outcome: str) -> None:
        await self._update_card(ticket)
        label = agent_mrkdwn(agent)
        await self._in_thread(ticket, agent_say("notice.resolved", self._language, agent=label, outcome=outcome))

    async def still_waiting(self, ticket: Ticket, minutes: int) -> None:
        text = agent_say("notice.waiting", self._language, ping=self._supervisors, minutes=minutes)
        await self._in_thread(ticket, text, broadcast=True)

    async def help_requested(self, ticket: Ticket, agent: str) -> None:
        text = agent_say("notice.help", self._language, ping=self._supervisors, agent=agent_mrkdwn(agent))
        await self._in_thread(ticket, text, broadcast=True)

    async def rated(self, ticket: Ticket, rating: int) -> None:
        await self._in_thread(ticket, agent_say("notice.rating", self._language, rating=rating))

    async def _update_card(self, ticket: Ticket) -> None:
        thread = self._repository.thread_for(ticket.handoff_id, DESK)
        if thread is not None:
            await self.client.chat_update(
                channel=thread.channel,
                ts=thread.thread_id,
                text=self._fallback(ticket),
                blocks=handoff_card(ticket, self._language, self.suggest_button),
            )

    async def _in_thread(self, ticket: Ticket, text: str, broadcast: bool = False) -> None:
        thread = self._repository.thread_for(ticket.handoff_id, DESK)
        if thread is not None:
            await self.client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.thread_id, text=text, reply_broadcast=broadcast
            )

    def _fallback(self, ticket: Ticket) -> str:
        return card_title(ticket)


class ReplayGuard:
    """Remembers keys for the timestamp window (signatures of verified requests, messages already answered);
    the same one twice is a replay."""

    def __init__(self, window: float = REPLAY_WINDOW_SECONDS) -> None:
        self._window = window
        self._seen: dict[str, float] = {}

    def first_time(self, key: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        self._seen = {seen: at for seen, at in self._seen.items() if now - at <= self._window}
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


def slack_router(
    service: HandoffService,
    customers: CustomerRepository,
    settings: Settings,
    nonces: NonceStore,
    care_note: Callable[[int, str, str], Awaitable[str | None]] | None = None,  # adapters/care_slack.py
    copilot=None,
) -> tuple[APIRouter, SlackDesk]:
    """The /slack/events route and the desk to register with the handoff service; `nonces` remembers the
    signatures already accepted, for every server process. `copilot` (a bot.llm.copilot.Copilot, LLM mode only)
    adds the "Suggest a reply" button to the cards."""
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=_with_slash(settings.slack_api_base_url))
    app = AsyncApp(
        client=client,  # carries the token; pointed at SLACK_API_BASE_URL
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,  # listeners are short: finish them, then answer Slack
    )
    language = settings.handoff_agent_language
    desk = SlackDesk(
        client, settings.slack_handoff_channel, service.repository, language, settings.slack_supervisor_group
    )
    desk.tickets = service.ticket
    desk.bolt = app  # more listeners (adapters/slack_drafts.py) register on the same app
    _register_handoff_listeners(app, service, language, care_note)
    if copilot is not None:
        desk.suggest_button = True
        _register_suggest_listener(app, copilot, customers, language)
    StaffCommands(customers, settings.slack_staff_ids, language).register(app)
    handler = AsyncSlackRequestHandler(app)
    verifier = SignatureVerifier(settings.slack_signing_secret)
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        timestamp = request.headers.get("x-slack-request-timestamp")
        signature = request.headers.get("x-slack-signature", "")
        # Checked here, before bolt parses the body, so that unsigned junk is refused rather than parsed.
        if not _signed(verifier, body, timestamp, signature):
            return JSONResponse({"error": "invalid or stale signature"}, status_code=401)
        if not await off_loop(nonces.first_time, f"slack:{signature}"):
            return JSONResponse({"error": "replayed request"}, status_code=401)
        if not _readable(body, request.headers.get("content-type")):  # signed, yet not what Slack sends
            return JSONResponse({"error": "malformed body"}, status_code=400)
        return await handler.handle(request)

    return router, desk


def _readable(body: bytes, content_type: str | None) -> bool:
    """The body parses the way bolt will parse it, into an object (bolt itself would fail with a 500)."""
    try:
        parsed = parse_body(body.decode("utf-8"), (content_type or "").split(";")[0].strip() or None)
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(parsed, dict)


def _signed(verifier: SignatureVerifier, body: bytes, timestamp: str | None, signature: str) -> bool:
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit():
        return False
    return verifier.is_valid(body, timestamp, signature)


def _register_handoff_listeners(
    app: AsyncApp,
    service: HandoffService,
    language: str,
    care_note: Callable[[int, str, str], Awaitable[str | None]] | None = None,
) -> None:
    prompted = ReplayGuard()  # Slack retries an event it got no quick answer to: prompt its author once

    async def tell(client: AsyncWebClient, body: dict[str, Any], result: ActionResult) -> None:
        if result.ok or not result.message:
            return
        channel = (body.get("channel") or {}).get("id")
        if channel:
            await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=result.message)

    def target(body: dict[str, Any]) -> tuple[int | None, str]:
        value = body["actions"][0].get("value", "")
        return row_id(value) if isinstance(value, str) else None, f"{DESK}:{body['user']['id']}"

    async def unknown(client: AsyncWebClient, body: dict[str, Any]) -> None:
        await tell(client, body, ActionResult(Outcome.MISSING, None, agent_say("error.unknown_action", language)))

    @app.action(CLAIM)
    async def claim(ack, body, client) -> None:
        await ack()
        handoff_id, agent = target(body)
        if handoff_id is None:
            return await unknown(client, body)
        await tell(client, body, await service.claim(handoff_id, agent, DESK))

    @app.action(RESOLVE)
    async def resolve(ack, body, client) -> None:
        await ack()
        handoff_id, agent = target(body)
        if handoff_id is None:
            return await unknown(client, body)
        await tell(client, body, await service.resolve(handoff_id, agent, DESK, ResolveOutcome.RESOLVED))

    @app.action(RETURN)
    async def return_to_bot(ack, body, client) -> None:
        await ack()
        handoff_id, agent = target(body)
        if handoff_id is None:
            return await unknown(client, body)
        await tell(client, body, await service.resolve(handoff_id, agent, DESK, ResolveOutcome.RETURNED_TO_BOT))

    @app.action(HELP)
    async def ask_for_help(ack, body, client) -> None:
        await ack()
        handoff_id, agent = target(body)
        if handoff_id is None:
            return await unknown(client, body)
        await tell(client, body, await service.ask_for_help(handoff_id, agent))

    @app.action(TAKE_OVER)
    async def take_over(ack, body, client) -> None:
        await ack()
        try:
            pending = json.loads(body["actions"][0].get("value", ""))
            handoff_id, ts, text = int(pending["handoff"]), str(pending["ts"]), str(pending["text"])
        except (ValueError, KeyError, TypeError):
            return await unknown(client, body)
        agent = f"{DESK}:{body['user']['id']}"
        claimed = await service.claim(handoff_id, agent, DESK, take_over=True)
        if not claimed.ok or not text:  # no text: it was too long for the button, and the agent sends it again
            return await tell(client, body, claimed)
        await tell(client, body, await service.reply(handoff_id, agent, text, DESK, ts))

    later = "|".join(re.escape(action) for action in (SUGGEST, DRAFT_APPROVE, DRAFT_REJECT))  # registered after

    @app.action(re.compile(f"^(?!({later})$).*"))
    async def unknown_action(ack, body, client) -> None:
        await ack()
        await unknown(client, body)

    @app.event("message")
    async def thread_reply(event, client) -> None:
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return
        handoff_id = await off_loop(service.repository.handoff_for_thread, DESK, event["channel"], thread_ts)
        if handoff_id is None:
            return
        agent, text = f"{DESK}:{event['user']}", unescape(event.get("text") or "")
        if care_note is not None and (answer := await care_note(handoff_id, agent, text)) is not None:
            await client.chat_postEphemeral(
                channel=event["channel"], user=event["user"], thread_ts=thread_ts, text=answer
            )
            return
        result = await service.reply(handoff_id, agent, text, DESK, event["ts"])
        if result.outcome in (Outcome.NOT_OWNER, Outcome.NOT_CLAIMED):
            if not prompted.first_time(f"{handoff_id}:{event['ts']}"):
                return
            await client.chat_postEphemeral(
                channel=event["channel"],
                user=event["user"],
                thread_ts=thread_ts,
                text=result.message,
                blocks=take_over_prompt(handoff_id, text, event["ts"], result.message, language),
            )
        elif not result.ok:
            await client.chat_postEphemeral(
                channel=event["channel"], user=event["user"], thread_ts=thread_ts, text=result.message
            )

    @app.event(re.compile(".*"))
    async def other_events() -> None:
        return None  # acknowledged so Slack does not retry; Warmdesk only reads thread replies


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _register_suggest_listener(app: AsyncApp, copilot, customers: CustomerRepository, language: str) -> None:
    @app.action(SUGGEST)
    async def suggest(ack, body, client) -> None:
        """The draft goes only to the agent who pressed the button (ephemeral); it is never sent to the customer."""
        await ack()
        value = body["actions"][0].get("value", "")
        handoff_id = row_id(value) if isinstance(value, str) else None
        channel = (body.get("channel") or {}).get("id")
        if handoff_id is None or not channel:
            return
        try:
            draft = await asyncio.to_thread(copilot.suggest, handoff_id)
        except LookupError:
            draft = None
        customers.audit(f"{DESK}:{body['user']['id']}", "copilot.suggest", f"handoff:{handoff_id}")
        text = (
            agent_say("copilot.draft", language, draft=draft.text)
            if draft
            else agent_say("copilot.unavailable", language)
        )
        await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)
