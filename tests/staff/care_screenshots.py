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
from tests.staff.helpers import add_accounts, signed_in_pages

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {"care-inbox": "/staff/care", "care-tasks": "/staff/care/tasks", "care-jobs": "/staff/care/jobs"}


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        runtime = Runtime.open(Settings(data_dir=Path(data_dir), agent_token="screenshot-token"))
        add_accounts(runtime)
        seed_care(runtime)
        with LiveServer(runtime) as live, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for language, size, page in signed_in_pages(browser, live.url, "aggie"):
                for name, path in PAGES.items():
                    page.goto(live.url + path)
                    page.screenshot(path=OUT / f"staff-{name}-{language}-{size}.png", full_page=True)
            browser.close()
        runtime.close()


if __name__ == "__main__":
    main()
