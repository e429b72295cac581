"""The web chat as a customer sees it, in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def ambiguous_question(runtime) -> str:
    """A short question the knowledge base answers with choices (which one depends on retrieval tuning)."""
    for text in ("points", "invoice", "积分", "发票", "account", "refund", "order", "shipping", "payment"):
        if runtime.knowledge.search(text).decision == "clarify":
            return text
    raise AssertionError("no one-word question makes the demo knowledge base offer choices")


def test_customer_chats_in_english_and_picks_a_clarify_choice(browser, live_server, live_runtime):
    page = browser.new_page(locale="en-US")
    page.goto(live_server.url)
    expect(page.locator(".msg.bot").first).to_contain_text("human")

    # The short question first: asked after another one, it would be read as a follow-up of that one.
    page.fill("#text", ambiguous_question(live_runtime))
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot")).to_have_count(2)
    choices = page.locator(".msg.bot").nth(1).locator(".choices button")
    expect(choices.first).to_be_visible()
    choices.first.click()
    expect(page.locator(".msg.bot")).to_have_count(3)
    expect(page.locator(".msg.bot").nth(2)).not_to_contain_text("Did you mean")

    page.fill("#text", "How long does a refund take to reach my card?")
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot")).to_have_count(4)
    expect(page.locator(".msg.bot").nth(3)).to_contain_text("business days")
    page.close()


def test_chinese_browser_gets_chinese_welcome_and_answers(browser, live_server):
    page = browser.new_page(locale="zh-CN")
    page.goto(live_server.url)
    expect(page.locator(".msg.bot").first).to_contain_text("人工")
    page.fill("#text", "发票怎么开？")
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot")).to_have_count(2)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in page.locator(".msg.bot").nth(1).inner_text())
    page.close()
