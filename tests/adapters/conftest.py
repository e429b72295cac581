from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from adapters.http_app import create_app
from bot.runtime import Runtime
from bot.settings import Settings


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
