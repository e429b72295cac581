from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from adapters.http_app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from tests.handoff.live import handoff_runtime

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class AppServer:
    """Any ASGI app on a real loopback port, in a thread of the test process (fake platform APIs, the app)."""

    def __init__(self, app) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = app
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


class LiveServer(AppServer):
    """The real app on a real loopback port, in a thread of the test process."""

    def __init__(self, runtime: Runtime, **app_options) -> None:
        super().__init__(create_app(runtime, **app_options))


@pytest.fixture(scope="session")
def live_runtime(tmp_path_factory) -> Iterator[Runtime]:
    runtime = Runtime.open(Settings(data_dir=tmp_path_factory.mktemp("web-data")))
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def live_server(live_runtime) -> Iterator[LiveServer]:
    server = LiveServer(live_runtime)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, once per test module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def handoff_server(tmp_path_factory):
    """The real app with the agent console on (WARMDESK_AGENT_TOKEN set), and its runtime, per test module."""
    runtime = handoff_runtime(tmp_path_factory.mktemp("handoff"))
    live = LiveServer(runtime)
    live.start()
    yield live, runtime
    live.stop()
    runtime.close()
