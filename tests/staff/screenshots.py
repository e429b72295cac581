"""Screenshots of the staff pages for docs/screenshots (desktop and 390 px, English and Chinese).

.venv/bin/python -m tests.staff.screenshots
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from bot.runtime import Runtime
from bot.settings import Settings
from tests.adapters.conftest import CHROMIUM, FLAGS, LiveServer
from tests.staff.helpers import add_accounts, signed_in_pages

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {
    "login": "/staff/login",
    "kb-list": "/staff/kb",
    "kb-list-script": "/staff/kb?q=%E6%9A%96%E5%8F%B0",  # 暖台: the entry whose English answer has Chinese
    "kb-edit": "/staff/kb/edit?id=order_track",
    "kb-history": "/staff/kb/history?id=order_track",
    "kb-try": "/staff/kb/try?q=积分",
    "kb-tests": "/staff/kb/tests?run=true",
    "kb-drafts": "/staff/kb/drafts",
    "kb-gaps": "/staff/kb/gaps",
    "kb-import": "/staff/kb/import/1",
}
GAPS = [
    "Is there a student discount?",
    "Do you offer discounts for students?",
    "This is ridiculous, I asked three times: is there a student discount or not?!",
    "Do you have a shop in Paris?",
    "Is there a store in Paris I can visit?",
    "有学生优惠吗",
    "学生有折扣吗",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        runtime = Runtime.open(Settings(data_dir=Path(data_dir), agent_token="screenshot-token"))
        add_accounts(runtime)
        entry = runtime.faqs.get("order_track")
        entry.answer_en += " Tracking updates within 12 hours."
        runtime.faqs.save(entry, "staff:edna", "clearer")
        named = runtime.faqs.get("payment_methods")  # an English answer naming a Chinese account: flagged in the list
        named.answer_en += " In WeChat, search for 暖台客服."
        runtime.faqs.save(named, "staff:edna", "WeChat account")
        from storage.staff_kb import KbTests

        KbTests(runtime.db).add("How do I track my order?", "order_track", "staff:edna")
        from storage.staff_drafts import DraftRepository

        DraftRepository(runtime.db).propose(
            "Can I pay with bitcoin?", "Not yet: we take cards, Alipay and WeChat Pay.", "en", "handoff:7"
        )
        DraftRepository(runtime.db).propose_question("can I pay", "payment_methods", "en", "clarify:3")
        with LiveServer(runtime) as live, sync_playwright() as playwright:
            customers = httpx.Client(base_url=live.url, timeout=30)
            for number, text in enumerate(GAPS):
                session = f"gapcustomer{number // 2 if number in (1, 2) else number:02d}"
                customers.post("/api/chat", json={"session_id": session, "message_id": f"g{number}", "text": text})
            from storage.staff import StaffMember

            jobs = live.app.state.kb_import_jobs
            job = jobs.start(StaffMember("edna", ("editor",)), "atec_like.jsonl", runtime.faqs.all(), [])
            while job.stage not in ("done", "failed"):
                time.sleep(0.05)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

            def login_shot(page, language: str, size: str) -> None:
                page.screenshot(path=OUT / f"staff-login-{language}-{size}.png")

            for language, size, page in signed_in_pages(browser, live.url, "edna", on_login_page=login_shot):
                for name, path in PAGES.items():
                    if name == "login":
                        continue
                    page.goto(live.url + path)
                    page.screenshot(path=OUT / f"staff-{name}-{language}-{size}.png", full_page=False)
            browser.close()
        runtime.close()


if __name__ == "__main__":
    main()
