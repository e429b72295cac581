"""Screenshots of the staff app's care pages (inbox, tasks, scheduled jobs) for docs/screenshots: desktop and
390 px, English and Chinese, signed in as an agent who is an account manager.

.venv/bin/python -m tests.staff.care_screenshots
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from bot.runtime import Runtime
from bot.settings import Settings
from tests.adapters.conftest import CHROMIUM, FLAGS, LiveServer
from tests.staff.care_seed import seed_care
from tests.staff.helpers import PASSWORD, add_accounts

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {"care-inbox": "/staff/care", "care-tasks": "/staff/care/tasks", "care-jobs": "/staff/care/jobs"}


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        runtime = Runtime.open(Settings(data_dir=Path(data_dir), agent_token="screenshot-token"))
        add_accounts(runtime)
        seed_care(runtime)
        with LiveServer(runtime) as live, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for language, locale in (("en", "en-US"), ("zh", "zh-CN")):
                for size, viewport in (
                    ("desktop", {"width": 1280, "height": 860}),
                    ("mobile", {"width": 390, "height": 844}),
                ):
                    context = browser.new_context(locale=locale, viewport=viewport)
                    page = context.new_page()
                    page.goto(f"{live.url}/staff/login?next=/staff/care")
                    page.fill("#name", "aggie")
                    page.fill("#password", PASSWORD)
                    page.click("#login")
                    page.wait_for_selector(".care-tabs")
                    for name, path in PAGES.items():
                        page.goto(live.url + path)
                        page.screenshot(path=OUT / f"staff-{name}-{language}-{size}.png", full_page=True)
                    context.close()
            browser.close()
        runtime.close()


if __name__ == "__main__":
    main()
