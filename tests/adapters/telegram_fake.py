"""A local stand-in for the Telegram Bot API, so the real python-telegram-bot SDK can be tested over loopback."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-token"
WEBHOOK_SECRET = "webhook-secret-for-tests"


class FakeTelegram:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.callback_answers: list[str] = []
        self.documents: list[dict[str, Any]] = []  # sendDocument: chat_id, caption, filename, content (bytes)
        self.failures: list[tuple[int, dict]] = []  # (status, body) answered to the next sendMessage calls
        self.updates: list[dict[str, Any]] = []
        self.webhook_deleted = False
        self.send_delay_seconds = 0.0  # a slow Bot API: sendMessage answers after this long
        self.down = False  # an outage: every sendMessage answers 502 until it is over
        self.refused: list[str] = []  # chat ids of the sendMessage calls refused by the outage
        self.on_accept: Callable[[dict[str, Any]], None] | None = None  # called as each message is accepted
        self._lock = threading.Lock()
        self._per_chat: dict[str, int] = {}  # accepted sendMessage calls per chat id, for cheap waiting
        self._accepted: dict[str, threading.Condition] = {}
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._call, methods=["POST", "GET"])])

    def fail_next(self, status: int, description: str, **parameters: Any) -> None:
        body = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.failures.append((status, body))

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.callback_answers.clear()
            self.documents.clear()
            self.failures.clear()
            self.updates.clear()
            self._per_chat.clear()
            self.send_delay_seconds = 0.0

    def sent_count(self, chat_id: int | str) -> int:
        """How many messages the API accepted for one chat so far."""
        with self._lock:
            return self._per_chat.get(str(chat_id), 0)

    def wait_for_chat(self, chat_id: int | str, more_than: int, timeout: float) -> bool:
        """Wait (without polling) until one chat has received more than `more_than` messages."""
        key = str(chat_id)
        with self._lock:
            accepted = self._accepted.setdefault(key, threading.Condition(self._lock))
            return accepted.wait_for(lambda: self._per_chat.get(key, 0) > more_than, timeout)

    def wait_for_sent(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} sent messages, got {self.sent}")
            time.sleep(0.02)
        return list(self.sent)

    async def _call(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != TOKEN:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        if method == "sendDocument":
            return await self._document(request)
        params = await _params(request)
        if method == "sendMessage":
            with self._lock:
                if self.down:
                    self.refused.append(str(params["chat_id"]))
                    body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
                    return JSONResponse(body, status_code=502)
                if self.failures:
                    status, body = self.failures.pop(0)
                    return JSONResponse(body, status_code=status)
                self.sent.append(params)
                message_id = len(self.sent)
                chat_key = str(params["chat_id"])
                self._per_chat[chat_key] = self._per_chat.get(chat_key, 0) + 1
                if (accepted := self._accepted.get(chat_key)) is not None:
                    accepted.notify_all()
            if self.on_accept is not None:
                self.on_accept(params)
            if self.send_delay_seconds:
                await asyncio.sleep(self.send_delay_seconds)
            chat = {"id": int(params["chat_id"]), "type": "private"}
            result = {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": params["text"]}
            return JSONResponse({"ok": True, "result": result})
        if method == "answerCallbackQuery":
            self.callback_answers.append(str(params["callback_query_id"]))
            return JSONResponse({"ok": True, "result": True})
        if method == "deleteWebhook":
            self.webhook_deleted = True
            return JSONResponse({"ok": True, "result": True})
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self._lock:
                ready = [u for u in self.updates if u["update_id"] >= offset]
            if not ready:
                await asyncio.sleep(0.1)
            return JSONResponse({"ok": True, "result": ready})
        if method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "Warmdesk", "username": "warmdesk_bot"}
            return JSONResponse({"ok": True, "result": result})
        return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404)

    async def _document(self, request: Request) -> JSONResponse:
        form = await request.form()
        upload = form["document"]
        content = await upload.read()
        with self._lock:
            self.documents.append(
                {
                    "chat_id": str(form["chat_id"]),
                    "caption": form.get("caption"),
                    "filename": upload.filename,
                    "content": content,
                }
            )
            message_id = 1000 + len(self.documents)
        chat = {"id": int(form["chat_id"]), "type": "private"}
        document = {"file_id": f"doc{message_id}", "file_unique_id": f"u{message_id}", "file_name": upload.filename}
        result = {"message_id": message_id, "date": int(time.time()), "chat": chat, "document": document}
        return JSONResponse({"ok": True, "result": result})


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        return await request.json()
    body = (await request.body()).decode()
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        try:
            params[key] = json.loads(value)
        except (TypeError, ValueError):
            params[key] = value
    return params


_ids = iter(range(10_000, 10_000_000))


def next_id() -> int:
    return next(_ids)


def text_update(text: str, user_id: int = 42, language_code: str | None = "en", update_id: int | None = None) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": language_code}
    message = {
        "message_id": next_id(),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": user,
        "text": text,
    }
    return {"update_id": update_id or next_id(), "message": message}


def photo_update(user_id: int = 42, language_code: str = "zh") -> dict:
    update = text_update("", user_id, language_code)
    del update["message"]["text"]
    update["message"]["photo"] = [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}]
    return update


def callback_update(data: str, label: str, user_id: int = 42, language_code: str = "en") -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": language_code}
    shown = {
        "message_id": next_id(),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "text": "Did you mean one of these?",
        "reply_markup": {"inline_keyboard": [[{"text": label, "callback_data": data}]]},
    }
    query = {"id": str(next_id()), "from": user, "chat_instance": "ci", "data": data, "message": shown}
    return {"update_id": next_id(), "callback_query": query}
