"""The web chat's first contact in a real headless Chromium: the privacy notice (stored with the first message),
and with strict consent the consent question with its "I agree" button, nothing stored until it is pressed.
Screenshots (desktop and 390 px, English and Chinese) go to WARMDESK_SCREENSHOTS_DIR when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from bot.texts import DEFAULT_TEXTS
from storage.models import CustomerPrivacy, Identity

pytestmark = pytest.mark.browser
say = DEFAULT_TEXTS.say
PHONE = {"width": 390, "height": 780}
DESKTOP = {"width": 1200, "height": 760}
LOCALES = {"en": "en-US", "zh": "zh-CN"}


def screenshot(page, name: str) -> None:
    keep = os.environ.get("WARMDESK_SCREENSHOTS_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(keep) / name)


def privacy_of(runtime, session_id: str) -> CustomerPrivacy | None:
    with runtime.db.session() as session:
        customer = session.exec(select(Identity.customer_id).where(Identity.platform_user_id == session_id)).first()
        return session.get(CustomerPrivacy, customer) if customer else None


def session_of(page) -> str:
    return page.evaluate("() => localStorage.getItem('warmdesk-session')")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_notice_is_shown_at_first_contact_and_recorded_with_the_first_message(
    browser, live_server, live_runtime, language
):
    page = browser.new_context(locale=LOCALES[language], viewport=DESKTOP).new_page()
    page.goto(live_server.url)
    expect(page.locator(".msg.notice")).to_have_text(say("privacy_notice", language))
    screenshot(page, f"chat-privacy-notice-{language}-desktop.png")
    page.set_viewport_size(PHONE)
    screenshot(page, f"chat-privacy-notice-{language}-390.png")
    assert privacy_of(live_runtime, session_of(page)) is None  # looking stores nothing

    page.fill("#text", "How long does a refund take?" if language == "en" else "退款多久到账？")
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot")).to_have_count(2)
    stored = privacy_of(live_runtime, session_of(page))
    assert stored.notice_version == live_runtime.engine.privacy.rules.notice_version and stored.notice_seen_at

    page.reload()  # a returning chat saw this version already
    expect(page.locator(".msg.me")).to_have_count(1)
    expect(page.locator(".msg.notice")).to_have_count(0)
    page.close()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_strict_consent_asks_first_and_stores_nothing_until_i_agree(browser, live_server, live_runtime, language):
    rules = live_runtime.engine.privacy.rules
    rules.strict_consent = True
    try:
        page = browser.new_context(locale=LOCALES[language], viewport=DESKTOP).new_page()
        page.goto(live_server.url)
        question = page.locator(".msg.notice")
        expect(question).to_contain_text(say("privacy_consent_question", language))
        page.fill("#text", "where is my parcel" if language == "en" else "我的快递在哪")
        page.press("#text", "Enter")
        expect(page.locator(".msg.notice")).to_have_count(2)  # asked again; the question is all that is answered
        assert privacy_of(live_runtime, session_of(page)) is None
        screenshot(page, f"chat-consent-{language}-desktop.png")
        page.set_viewport_size(PHONE)
        screenshot(page, f"chat-consent-{language}-390.png")

        page.locator(".msg.notice").last.locator("button", has_text=say("privacy_agree", language)).click()
        expect(page.locator(".msg.bot").last).to_have_text(say("privacy_consent_thanks", language))
        stored = privacy_of(live_runtime, session_of(page))
        assert stored.consent == "given" and stored.notice_version == rules.notice_version
        page.reload()  # agreed: no question any more
        expect(page.locator(".msg.notice")).to_have_count(0)
        page.close()
    finally:
        rules.strict_consent = False
