"""A server with every channel on (web chat, Telegram and WeChat against their fake APIs) and INFO logs in a file,
for the in-chat data-rights tests."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from adapters.telegram import SECRET_HEADER
from tests.adapters.conftest import AppServer
from tests.adapters.telegram_fake import WEBHOOK_SECRET, text_update
from tests.adapters.wechat_fake import signed_query, text_xml

LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error")
PUBLIC_URL = "https://desk.example.com"
SLACK_CHANNEL = "C1"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # run.py's


class LoggedServer(AppServer):
    """The real app as `run.py serve` runs it: uvicorn's access log on, and every line a deployment with the
    default WARMDESK_LOG_LEVEL writes (`level`, INFO) of every logger, with tracebacks, in `log_file`."""

    def __init__(self, app, log_file: Path, level: str = "INFO") -> None:
        super().__init__(app)
        self.level = level.upper()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level=self.level.lower(), access_log=True)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.handler = logging.FileHandler(log_file, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter(LOG_FORMAT))
        self._levels: dict[str, int] = {}

    def start(self) -> None:
        for name in LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.addHandler(self.handler)  # uvicorn's loggers do not all reach the root: each gets it
        logging.getLogger().setLevel(self.level)
        super().start()

    def stop(self) -> None:
        super().stop()
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(self.handler)
            logger.setLevel(self._levels.get(name, logging.NOTSET))
        self.handler.close()


def web_say(url: str, session: str, text: str, message_id: str | None = None, **extra) -> dict:
    body = {"session_id": session, "text": text, "message_id": message_id or uuid.uuid4().hex[:12], **extra}
    response = httpx.post(f"{url}/api/chat", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def telegram_update(text: str, user_id: int, name: str, language: str, update_id: int | None = None) -> dict:
    update = text_update(text, user_id, language, update_id)
    update["message"]["from"]["first_name"] = name
    return update


def telegram_post(url: str, update: dict) -> httpx.Response:
    headers = {SECRET_HEADER: WEBHOOK_SECRET}
    response = httpx.post(f"{url}/telegram/webhook", json=update, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response


def wechat_say(url: str, openid: str, text: str, msg_id: str | None = None) -> str:
    """The passive reply's content (WeChat plaintext mode), or "" for `success`."""
    body = text_xml(text, openid, msg_id).encode()
    # WeChat puts the openid in the signed query string too: it must not reach the access log.
    response = httpx.post(f"{url}/wechat?{signed_query(openid=openid)}", content=body, timeout=30)
    assert response.status_code == 200, response.text
    if response.text == "success":
        return ""
    return response.text.split("<Content><![CDATA[", 1)[1].split("]]></Content>", 1)[0]


def wait_until(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def files_holding(markers: list[str], paths: list[Path]) -> dict[str, list[str]]:
    """Each marker found in the bytes of any file under `paths` (UTF-8), with the files holding it."""
    found: dict[str, list[str]] = {}
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    for file in files:
        data = file.read_bytes()
        for marker in markers:
            if marker.encode("utf-8") in data:
                found.setdefault(marker, []).append(file.name)
    return found
