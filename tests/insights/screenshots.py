"""Screenshots of the managers' pages for docs/screenshots (dashboard, customer list, a customer page, the weekly
digest; desktop and 390 px, English and Chinese), on a generated 90-day history plus one hand-written customer.

PYTHONPATH=. .venv/bin/python -m tests.insights.screenshots
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.insights_fixture import END, generate
from storage.db import Database
from storage.models import CareNote, Conversation, Customer, EmotionAlert, Handoff, Identity, Message, Note
from tests.adapters.conftest import CHROMIUM, FLAGS, AppServer
from tests.insights.pages_app import add_staff, pages_app
from tests.staff.helpers import signed_in_pages

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TALK = (
    ("in", "我的订单三天了还没发货", "anxiety", "track"),
    ("out", "您的订单已在 12 小时内更新物流信息。", None, "track"),
    ("in", "太慢了，我要找人工", "anger", None),
    ("out", "我已为您转接人工客服：李娜 已加入。", None, None),
    ("in", "好的，谢谢你们，已经收到了！", "joy", None),
)


def add_customer(db: Database) -> int:
    """One customer with a story: two channels, a frustrated wait, a handoff that helped, a care note."""
    start = END - timedelta(days=3, hours=5)
    with db.session() as session:
        customer = Customer(display_name="林晓", language="zh", tier="vip", phone="+8613900001111", last_seen_at=END)
        session.add(customer)
        session.flush()
        session.add(Identity(customer_id=customer.id, platform="wechat", platform_user_id="o-linxiao"))
        session.add(Identity(customer_id=customer.id, platform="web", platform_user_id="web-linxiao"))
        earlier = Conversation(customer_id=customer.id, platform="web", started_at=start - timedelta(days=20))
        session.add(earlier)
        session.flush()
        for minutes, (text, emotion) in enumerate((("积分什么时候到账？", "neutral"), ("明白了，谢谢", "joy"))):
            session.add(
                Message(
                    conversation_id=earlier.id, customer_id=customer.id, direction="in", platform="web", text=text,
                    language="zh", emotion_label=emotion, emotion_intensity=0.6, decision="answer",
                    created_at=earlier.started_at + timedelta(minutes=minutes * 2),
                )
            )  # fmt: skip
        conversation = Conversation(customer_id=customer.id, platform="wechat", started_at=start, last_message_at=start)
        session.add(conversation)
        session.flush()
        for index, (direction, text, emotion, faq) in enumerate(TALK):
            session.add(
                Message(
                    conversation_id=conversation.id, customer_id=customer.id, direction=direction,
                    platform="wechat", text=text, language="zh", emotion_label=emotion,
                    emotion_intensity=0.8 if emotion else None, faq_id=faq,
                    decision="answer" if direction == "in" else None, created_at=start + timedelta(minutes=3 * index),
                )
            )  # fmt: skip
        handoff = Handoff(
            conversation_id=conversation.id, customer_id=customer.id, reason="anger", status="resolved",
            agent="李娜", summary="客户订单三天未发货，情绪焦虑后转为愤怒；已联系仓库加急，当天发出。",
            requested_at=start + timedelta(minutes=6), claimed_at=start + timedelta(minutes=9),
            resolved_at=start + timedelta(minutes=14), outcome="resolved", rating=5,
        )  # fmt: skip
        session.add(handoff)
        session.flush()
        session.add(
            CareNote(customer_id=customer.id, handoff_id=handoff.id, author="李娜", text="母亲住院，下次联系先问候")
        )
        session.add(Note(customer_id=customer.id, author="console:ann", text="prefers WeChat voice calls"))
        session.add(EmotionAlert(customer_id=customer.id, reason="negative in 2 conversations this week"))
        return customer.id


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        db = Database(f"sqlite:///{Path(data_dir) / 'crm.db'}")
        db.migrate()
        generate(db, messages=8000, customers=600, days=90)
        customer = add_customer(db)
        add_staff(db)
        pages = {
            "insights-dashboard": "/staff/insights?from=2026-10-01&to=2026-11-30",
            "insights-customers": "/staff/customers",
            "insights-customer": f"/staff/customers/{customer}",
            "insights-digest": "/staff/insights/digest?to=2026-11-30",
            "insights-bad-range": "/staff/insights?from=2026-11-30&to=2026-10-01",  # explained in the page language
        }
        with AppServer(pages_app(db, Path(data_dir))) as live, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for language, size, page in signed_in_pages(browser, live.url, "mona"):
                for name, path in pages.items():
                    page.goto(live.url + path)
                    page.wait_for_load_state("load")
                    page.screenshot(path=OUT / f"{name}-{language}-{size}.png", full_page=name != "insights-dashboard")
                    if name == "insights-dashboard":
                        page.screenshot(path=OUT / f"{name}-{language}-{size}-full.png", full_page=True)
            browser.close()
        db.dispose()


if __name__ == "__main__":
    main()
