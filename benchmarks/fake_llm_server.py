"""A fake OpenAI-compatible chat server on loopback that answers grounded from the prompt, for tests and for the
conversation benchmark in LLM mode (docs/benchmarks.md):

    .venv/bin/python -m benchmarks.fake_llm_server [--port 0]     # prints "http://127.0.0.1:PORT/v1"

For an answer prompt it picks the entry marked "match": "strong" (the one retrieval was sure of) and replies with
that entry's answer behind a short opener, naming the entry; with none marked strong it says none fits. Summary,
suggestion and translation prompts get simple, well-formed replies. Tests swap `behaviour` to script errors
(429, 500), slow answers, malformed JSON or a model that invents a price. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OPENERS = {"en": "Here is what our help pages say: ", "zh": "根据我们的说明："}


@dataclass(slots=True)
class Reply:
    """What the fake sends back: a chat completion with `content`, or an error `status`, after `delay` seconds."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None  # sent as the body instead (a malformed response)


Behaviour = Callable[[dict[str, Any]], Reply]


def payload_of(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON document of the last user message, when it is one."""
    user = [m for m in request.get("messages", []) if m.get("role") in ("user", "human")]
    try:
        value = json.loads(user[-1]["content"]) if user else None
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def system_text(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "system")


def grounded(request: dict[str, Any]) -> Reply:
    payload = payload_of(request) or {}
    system = system_text(request)
    if "entries" in payload and "message" in payload:
        strong = [e for e in payload["entries"] if e.get("match") == "strong"]
        if not strong:
            return Reply(json.dumps({"faq_id": None, "reply": ""}))
        entry = strong[0]
        chinese = "Chinese" in system.split("Reply in", 1)[-1][:60]
        text = OPENERS["zh" if chinese else "en"] + entry["answer"]
        return Reply(json.dumps({"faq_id": entry["id"], "reply": text}, ensure_ascii=False))
    if "transcript" in payload and "reason" in payload:
        said = [line["text"] for line in payload["transcript"] if line.get("direction") == "in"]
        return Reply(
            json.dumps(
                {
                    "goal": said[-1] if said else "",
                    "problem": " ".join(said[-2:]),
                    "tried": "the assistant's answers in the transcript",
                    "emotion_path": " -> ".join(payload.get("emotions") or ["neutral"]),
                    "first_step": "Read the last message and answer it.",
                },
                ensure_ascii=False,
            )
        )
    if "entries" in payload:
        entries = payload["entries"]
        return Reply(entries[0]["answer"] if entries else "Let me check this and come back to you.")
    user = [m for m in request.get("messages", []) if m.get("role") == "user"]
    return Reply(f"[translated] {user[-1]['content'] if user else ''}")


@dataclass
class FakeLlm:
    """The server: start(), .base_url, .requests (every request body received), stop()."""

    behaviour: Behaviour = grounded
    requests: list[dict[str, Any]] = field(default_factory=list)
    handling_seconds: list[float] = field(default_factory=list)  # per request, reading to last byte written
    port: int = 0

    def start(self) -> FakeLlm:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do

            def setup(self) -> None:
                super().setup()  # no Nagle delay between the header and body writes on a kept-alive connection
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                started = time.perf_counter()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append(body)
                reply = fake.behaviour(body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    data = reply.raw
                elif reply.status != 200:
                    data = json.dumps({"error": {"message": "scripted error", "type": "server_error"}}).encode()
                else:
                    data = json.dumps(completion(body, reply.content or ""), ensure_ascii=False).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass
                fake.handling_seconds.append(time.perf_counter() - started - reply.delay)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def completion(request: dict[str, Any], content: str) -> dict[str, Any]:
    prompt = sum(len(str(m.get("content", ""))) for m in request.get("messages", []))
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt // 4, "completion_tokens": len(content) // 4, "total_tokens": 0},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible chat server that answers from the prompt.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = FakeLlm(port=args.port).start()
    print(fake.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
