"""How fast the KB editor's pages render with the 20,000-entry ATEC knowledge base (target ≤ 300 ms).

    .venv/bin/python -m benchmarks.staff_kb_bench [--kb ../shared/bench/atec_kb.jsonl] [--rounds 20]

Loads the file into a throwaway SQLite database at run time (evaluation data, never copied into the repo),
serves the real staff routers on a loopback port and times full HTTP round trips of a signed-in editor.
The pages read the database only (the search index is not needed), so no embedding is done.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
from fastapi import FastAPI

from adapters.staff.auth import COOKIE, StaffAuth
from adapters.staff.kb import kb_router
from adapters.staff.pages import install_error_pages
from bot.settings import Settings
from knowledge.io import load_entries
from storage.customers import CustomerRepository
from storage.db import Database
from storage.faqs import FaqRepository
from storage.models import utcnow
from storage.staff import StaffRepository
from storage.staff_drafts import DraftRepository
from storage.staff_kb import KbListing, KbTests
from tests.adapters.conftest import AppServer

DEFAULT_KB = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "atec_kb.jsonl"  # as faq_bench


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=Path, default=DEFAULT_KB)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="keep the loaded database in this folder and reuse it next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db = Database(f"sqlite:///{folder / 'bench.db'}")
        db.migrate()
        faqs = FaqRepository(db)
        started = time.perf_counter()
        entries = load_entries(args.kb).entries
        if faqs.count() != len(entries):
            faqs.save_many(entries, author="bench")
        print(f"loaded {len(entries)} entries in {time.perf_counter() - started:.1f} s")
        staff = StaffRepository(db)
        auth = StaffAuth(staff, CustomerRepository(db), Settings(data_dir=Path(folder)))
        token, _ = staff.open_session("bench", ("editor",), utcnow(), auth_lifetime())
        app = FastAPI()
        install_error_pages(app)
        runtime = SimpleNamespace(faqs=faqs, knowledge=None)
        app.include_router(kb_router(runtime, auth, KbListing(db, faqs), KbTests(db), DraftRepository(db)))
        some_id = entries[len(entries) // 2].id
        pages = {
            "list, first page": "/staff/kb",
            "list, page 200": "/staff/kb?page=200",
            "search 花呗 (Chinese substring)": "/staff/kb?q=%E8%8A%B1%E5%91%97",
            "filter: missing English": "/staff/kb?missing=en",
            "edit one entry": f"/staff/kb/edit?id={some_id}",
            "history of one entry": f"/staff/kb/history?id={some_id}",
        }
        with AppServer(app) as server:
            client = httpx.Client(base_url=server.url, cookies={COOKIE: token}, timeout=60)
            cold = time.perf_counter()
            assert client.get("/staff/kb").status_code == 200
            print(f"first list after start (loads the listing): {1000 * (time.perf_counter() - cold):.0f} ms")
            edited = faqs.get(some_id)
            edited.questions.append("bench edit")
            faqs.save(edited, author="bench")
            after_edit = time.perf_counter()
            assert client.get("/staff/kb").status_code == 200
            print(f"first list after an edit: {1000 * (time.perf_counter() - after_edit):.0f} ms")
            print("| page | p50 ms | max ms |\n|---|---|---|")
            for name, path in pages.items():
                times = []
                for _ in range(args.rounds):
                    begin = time.perf_counter()
                    response = client.get(path)
                    times.append(1000 * (time.perf_counter() - begin))
                    assert response.status_code == 200, (path, response.status_code)
                print(f"| {name} | {statistics.median(times):.0f} | {max(times):.0f} |")
        db.dispose()


def auth_lifetime() -> timedelta:
    return timedelta(hours=1)


if __name__ == "__main__":
    main()
