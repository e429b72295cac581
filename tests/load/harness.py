"""Real server processes, a real Chroma server and a throwaway PostgreSQL database for the load suite."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from tests.conftest import POSTGRES_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = float(os.environ.get("LOAD_START_SECONDS", "600"))  # a cold start embeds the demo KB


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"warmdesk_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait(url: str, process: subprocess.Popen, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"{what} exited with {process.returncode}\n{said}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready in {START_SECONDS:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    with chroma_server_process(folder) as (url, _process):
        yield url


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_backends_cpu_seconds(database_url: str) -> float:
    """CPU time of the PostgreSQL server processes serving `database_url` now (the server runs on this node)."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        pids = [row[0] for row in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]
    return sum(process_cpu_seconds(pid) for pid in pids)


@contextlib.contextmanager
def chroma_server_process(folder: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    chroma = str(Path(sys.executable).parent / "chroma")
    process = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        _wait(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, "chroma run")
        yield f"http://127.0.0.1:{port}", process
    finally:
        _stop(process)


@dataclass
class Served:
    """A running `run.py serve`: its address and its process (to kill it, or read its CPU time)."""

    url: str
    process: subprocess.Popen
    sql_counts: Path | None = None

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads)."""
        return process_cpu_seconds(self.process.pid)

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, whatever was in flight stays as it was."""
        self.process.kill()
        self.process.wait()


_template: list[Path] = []


def seeded_template() -> Path:
    """A data folder whose demo KB is embedded already, made once per test session: a cold start embeds the KB
    (minutes on a loaded 2-core machine), a start from a copy reuses the vectors (the index is keyed by entry)."""
    if not _template and os.environ.get("LOAD_TEMPLATE"):  # a folder seeded by an earlier run, to start faster
        _template.append(Path(os.environ["LOAD_TEMPLATE"]))
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="warmdesk-load-template-")) / "data"
        with serve_process({}, folder, from_template=False):
            pass
        _template.append(folder)
    return _template[0]


@contextlib.contextmanager
def serve_process(
    env: dict[str, str], data_dir: Path, *, from_template: bool = True, sql_counts: Path | None = None
) -> Iterator[Served]:
    """`run.py serve` on a free port with `data_dir` (a copy of the seeded template when it does not exist yet);
    with `sql_counts`, its SQL statements are counted into that file (tests/load/counting_serve.py)."""
    if from_template and not data_dir.exists():
        shutil.copytree(seeded_template(), data_dir)
    port = free_port()
    log_path = data_dir.parent / f"serve-{port}.log"
    log = log_path.open("wb")
    command = ["-m", "tests.load.counting_serve", str(sql_counts)] if sql_counts else ["run.py"]
    process = subprocess.Popen(
        [sys.executable, *command, "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env, "WARMDESK_DATA_DIR": str(data_dir), "WARMDESK_LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/readyz", process, "run.py serve", log_path)
        yield Served(f"http://127.0.0.1:{port}", process, sql_counts)
    finally:
        _stop(process)
        log.close()


@dataclass
class DeliveryReport:
    chats: int
    delivered: int
    duplicated: int
    lost: int
    reordered_chats: int
    http_errors: int

    def line(self) -> str:
        return (
            f"{self.chats} chats: delivered {self.delivered}, duplicated {self.duplicated}, lost {self.lost}, "
            f"reordered chats {self.reordered_chats}, HTTP 5xx {self.http_errors}"
        )


def compare(expected: dict[str, list[str]], sent: list[tuple[str, str]], http_errors: int) -> DeliveryReport:
    """`expected[chat]`: the replies in order; `sent`: (chat, text) as the platform received them."""
    received: dict[str, list[str]] = defaultdict(list)
    for chat, text in sent:
        received[chat].append(text)
    delivered = duplicated = lost = reordered = 0
    for chat, wanted in expected.items():
        got = received.get(chat, [])
        want_counts, got_counts = Counter(wanted), Counter(got)
        delivered += sum(min(n, got_counts[t]) for t, n in want_counts.items())
        duplicated += sum(max(0, got_counts[t] - n) for t, n in want_counts.items())
        lost += sum(max(0, n - got_counts[t]) for t, n in want_counts.items())
        first_seen = list(dict.fromkeys(got))
        reordered += first_seen != [t for t in dict.fromkeys(wanted) if t in got_counts]
    return DeliveryReport(len(expected), delivered, duplicated, lost, reordered, http_errors)
