"""How long after the triggering message the Slack handoff card is posted (target ≤ 1 s, offline summary).

A live server (real runtime, uvicorn on loopback) with the Slack desk pointed at a local recorder of Web API
calls; each of N new web-chat customers sends one angry message, and the clock runs from sending it until
the recorder has received the card (`chat.postMessage`).

    .venv/bin/python -m benchmarks.handoff_card_bench [--customers 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.adapters.conftest import LiveServer
from tests.handoff.live import WebCustomer, handoff_runtime
from tests.handoff.slack_api import SlackApiRecorder

ANGRY = "This is ridiculous!!! Three weeks and my parcel still hasn't arrived, nobody answers me. Terrible service!"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=30)
    args = parser.parse_args()
    recorder = SlackApiRecorder().start()
    with tempfile.TemporaryDirectory() as data_dir:
        runtime = handoff_runtime(Path(data_dir), recorder.base_url)
        server = LiveServer(runtime)
        server.start()
        try:
            WebCustomer(server.url).say("How do I get an invoice?")  # warm-up
            seconds = []
            for _ in range(args.customers):
                cards = len(recorder.named("chat.postMessage"))
                started = time.perf_counter()
                WebCustomer(server.url).say(ANGRY)
                while len(recorder.named("chat.postMessage")) == cards:
                    time.sleep(0.001)
                seconds.append(time.perf_counter() - started)
        finally:
            server.stop()
            runtime.close()
            recorder.stop()
    seconds.sort()
    print(
        f"cards: {len(seconds)}  p50 {statistics.median(seconds) * 1e3:.0f} ms  "
        f"p95 {seconds[round(0.95 * (len(seconds) - 1))] * 1e3:.0f} ms  max {seconds[-1] * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
