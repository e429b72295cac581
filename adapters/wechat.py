"""WeChat Official Account: `GET /wechat` (URL verification) and `POST /wechat` (messages and events).

Answers passively when the engine is done within the budget, otherwise replies `success` at once and the answer
goes out through the outbox as a customer-service message. See adapters/passive_window.py for the retry rules.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from adapters.passive_window import PassiveWindow
from adapters.wechat_api import OfficialAccountClient, WeChatSender
from adapters.wechat_crypto import BadSignature, CallbackCrypto
from adapters.wechat_messages import (
    PLATFORM,
    TEXT_LIMIT_BYTES,
    MissingField,
    inbound_from_fields,
    message_key,
    render_text,
    required,
)
from adapters.wechat_xml import BadXml, text_reply_xml
from bot.engine import Engine, EngineReply
from bot.messages import InboundMessage
from bot.outbox import Outbox
from bot.settings import Settings
from storage.db import off_loop
from storage.nonces import NonceStore

log = logging.getLogger("warmdesk.wechat")

SUCCESS = "success"  # tells WeChat "received, no passive reply"; it then neither retries nor shows an error
MAX_BODY_BYTES = 64 * 1024
WELCOME_LANGUAGE = "zh"  # WeChat sends no language with a subscribe event
PASSIVE_BUDGET_SECONDS = 3.5  # WeChat gives up after 5 s: 1.5 s left for the network and a busy server


class WeChatChannel:
    def __init__(
        self,
        crypto: CallbackCrypto,
        engine: Engine,
        outbox: Outbox,
        sender: WeChatSender | None = None,
        window: PassiveWindow[EngineReply] | None = None,
        nonces: NonceStore | None = None,
    ) -> None:
        self._crypto = crypto
        self._nonces = nonces  # None: no replay check (benchmarks); the app always passes the database's
        self._engine = engine
        self._outbox = outbox
        self.window = window or PassiveWindow(PASSIVE_BUDGET_SECONDS)
        if sender is not None:
            outbox.add_sender(PLATFORM, sender)

    @classmethod
    def from_settings(
        cls, settings: Settings, engine: Engine, outbox: Outbox, nonces: NonceStore | None = None
    ) -> WeChatChannel | None:
        if not settings.wechat_token:
            return None
        crypto = CallbackCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)
        sender = None
        if settings.wechat_app_id and settings.wechat_app_secret:
            client = OfficialAccountClient(
                settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_base_url
            )
            sender = WeChatSender(client)
        else:
            log.warning("WECHAT_APP_ID/WECHAT_APP_SECRET unset: slow answers and agent replies cannot reach WeChat")
        return cls(crypto, engine, outbox, sender, nonces=nonces)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/wechat", include_in_schema=False)
        async def verify_url(signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = "") -> Response:
            try:
                self._crypto.verify(signature, timestamp, nonce)
            except BadSignature:
                return Response(status_code=403)
            return PlainTextResponse(echostr)

        @router.post("/wechat", include_in_schema=False)
        async def callback(request: Request) -> Response:
            arrived = time.monotonic()  # WeChat's 5 s count from here, not from after the checks
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return PlainTextResponse("body too large", status_code=413)
            query = dict(request.query_params)
            try:
                fields, encrypted = self._crypto.open(body, query)
                await self._refuse_replay(query)
                content = await self.respond(fields, arrived)
            except BadSignature:
                return Response(status_code=403)
            except (BadXml, MissingField) as error:
                return PlainTextResponse(f"bad request: {error}", status_code=400)
            if content is None:
                return PlainTextResponse(SUCCESS)
            reply = text_reply_xml(
                to_user=fields["FromUserName"], from_user=fields.get("ToUserName", ""), content=content
            )
            if encrypted:
                reply = self._crypto.seal(reply, query.get("nonce", ""))
            return Response(reply, media_type="application/xml")

        return router

    async def _refuse_replay(self, query: dict[str, str]) -> None:
        """A signed request seen before (same timestamp and nonce, any body) is a captured one sent again."""
        key = f"wechat:{query.get('timestamp', '')}:{query.get('nonce', '')}"
        if self._nonces is not None and not await off_loop(self._nonces.first_time, key):
            raise BadSignature("replayed nonce")

    async def respond(self, fields: dict[str, str], arrived: float | None = None) -> str | None:
        """The passive reply's text, or None to answer `success`."""
        if required(fields, "MsgType").lower() == "event":
            return await self._event(fields)
        inbound = inbound_from_fields(fields)
        key = message_key(fields)
        reply = await self.window.answer(
            key, lambda: self._engine.handle(inbound), lambda r: self._later(r, key), arrived
        )
        if reply is None or not reply.replies:
            return None
        passive = "\n\n".join(render_text(r) for r in reply.replies)
        if len(passive.encode("utf-8")) > TEXT_LIMIT_BYTES:  # too long for one reply: sent in parts instead
            await self._later(reply, key)
            return None
        return passive

    async def _later(self, reply: EngineReply, key: str) -> None:
        for index, outbound in enumerate(reply.replies):
            await off_loop(
                self._outbox.enqueue,
                outbound,
                customer_id=reply.customer_id,
                conversation_id=reply.conversation_id,
                dedup_key=f"{PLATFORM}:{key}:{index}",
            )
        self._outbox.wake()

    async def _event(self, fields: dict[str, str]) -> str | None:
        event = fields.get("Event", "").lower()
        openid = required(fields, "FromUserName")
        if event not in ("subscribe", "unsubscribe"):
            return None
        opened = InboundMessage(
            PLATFORM,
            openid,
            "",
            chat_id=openid,
            message_id=f"event:{message_key(fields)}",
            language_hint=WELCOME_LANGUAGE,
            content_type="event",
        )
        reply = await self._engine.chat_event(opened, event)
        return "\n\n".join(r.text for r in reply.replies) or None
