"""A local stand-in for the Slack Web API that records every call, and helpers to sign requests like Slack."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlparse

SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT"


class SlackApiRecorder:
    """Answers like Slack for the methods Warmdesk uses; `calls` holds (method, params) in arrival order."""

    def __init__(self, usergroups: dict[str, list[str]] | None = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.usergroups = usergroups or {}
        self.messages: dict[tuple[str, str], dict] = {}  # (channel, ts) -> what is in Slack now
        self._ts = itertools.count(1)
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(dict(parse_qsl(urlparse(self.path).query)))

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                if "json" in (self.headers.get("content-type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = dict(parse_qsl(raw))
                # slack_sdk sends some methods' arguments (chat.delete) in the query string of a POST
                self._answer({**dict(parse_qsl(urlparse(self.path).query)), **params})

            def _answer(self, params: dict) -> None:
                method = urlparse(self.path).path.rsplit("/", 1)[-1]
                recorder.calls.append((method, params))
                body = json.dumps(recorder.respond(method, params)).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def start(self) -> SlackApiRecorder:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def respond(self, method: str, params: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1", "user": "warmdesk"}
        if method == "chat.postMessage":
            ts = f"{1700000000 + next(self._ts)}.000100"
            shown = f"{params.get('text') or ''} {params.get('blocks') or ''}"
            self._keep(params.get("channel"), ts, shown, BOT_USER, params.get("thread_ts"))
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method == "conversations.replies":
            channel, ts = params.get("channel"), params.get("ts")
            if (channel, ts) not in self.messages:
                return {"ok": False, "error": "thread_not_found"}
            thread = [
                m for (c, _), m in list(self.messages.items()) if c == channel and ts in (m["ts"], m["thread_ts"])
            ]
            return {"ok": True, "messages": sorted(thread, key=lambda m: m["ts"]), "has_more": False}
        if method == "chat.delete":
            found = self.messages.get((params.get("channel"), params.get("ts")))
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            if found["user"] != BOT_USER:  # a bot token deletes only the bot's own messages
                return {"ok": False, "error": "cant_delete_message"}
            del self.messages[(params.get("channel"), params.get("ts"))]
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(params.get("usergroup"), [])}
        return {"ok": True}

    def person_replies(self, channel: str, thread_ts: str, text: str, user: str = "U1") -> str:
        """A person typed in a card's thread (Slack would also send Warmdesk the event)."""
        ts = f"{1700000000 + next(self._ts)}.000200"
        self._keep(channel, ts, text, user, thread_ts)
        return ts

    def _keep(self, channel: str | None, ts: str, text: str | None, user: str, thread_ts: str | None) -> None:
        message = {"ts": ts, "user": user, "text": text or "", "thread_ts": thread_ts}
        if user == BOT_USER:
            message["bot_id"] = "BBOT"
        self.messages[(channel or "", ts)] = message

    def named(self, method: str) -> list[dict]:
        return [params for name, params in self.calls if name == method]

    def wait_for(self, method: str, matching=lambda params: True, timeout: float = 10.0) -> dict:
        """The newest `method` call that matches, once it has arrived (the desks are told in the background)."""
        deadline = time.monotonic() + timeout
        while not (found := [params for params in self.named(method) if matching(params)]):
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching {method} call; got {self.calls}")
            time.sleep(0.01)
        return found[-1]


def signed(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": stamp, "x-slack-signature": f"v0={digest}"}


def action_body(action_id: str, value: str, user: str = "U1", channel: str = "C1") -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "team": {"id": "T1", "domain": "test"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "message", "channel_id": channel, "message_ts": "1.0"},
        "channel": {"id": channel, "name": "handoffs"},
        "trigger_id": "trigger",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def thread_reply_body(text: str, user: str, channel: str, thread_ts: str, ts: str, event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}],
            "event": {
                "type": "message",
                "channel": channel,
                "channel_type": "channel",
                "user": user,
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
            },
        }
    )


def command_body(command: str, text: str, user: str) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": user,
            "command": command,
            "text": text,
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "trigger",
            "api_app_id": "A1",
        }
    )
