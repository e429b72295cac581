"""The web chat and the agent console in a real headless Chromium, with a desk on: a reload keeps the
conversation, waiting is visible, Chinese customers get Chinese chrome, and the console keeps the agent's
scroll position and draft. Screenshots of both pages (desktop and 390 px, English and Chinese) are taken on
the way; set WARMDESK_SCREENSHOTS_DIR to keep them (docs/screenshots/ holds the committed ones)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.adapters.test_webchat_browser import ambiguous_question
from tests.handoff.live import AGENT_TOKEN, WebCustomer

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 780}
DESKTOP = {"width": 1200, "height": 760}
PLACEHOLDER_FITS = """() => {
  const box = document.getElementById("text"), style = getComputedStyle(box);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(box.placeholder).width <= room;
}"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    keep = os.environ.get("WARMDESK_SCREENSHOTS_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.png"):
            shutil.copy(shot, Path(keep) / shot.name)


def signed_in_console(browser, live, name: str, viewport=DESKTOP):
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{live.url}/agent")
    page.fill("#name", name)
    page.fill("#password", AGENT_TOKEN)  # the bootstrap admin signs in with the token
    page.click("#login")
    expect(page.locator("#me")).to_contain_text(name)
    return page


def newest_requested(runtime) -> int:
    return max(h.id for h in runtime.handoff.repository.queue() if h.status == "requested")


def test_a_reload_restores_the_conversation_and_the_waiting_state(browser, handoff_server, shots):
    live, _ = handoff_server
    page = browser.new_context(locale="en-US", viewport=DESKTOP).new_page()
    page.goto(live.url)
    page.fill("#text", "How long does a refund take to reach my card?")
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot").nth(1)).to_contain_text("business days")
    expect(page.locator("#status")).to_be_hidden()
    page.fill("#text", "I want to talk to a human")
    page.press("#text", "Enter")
    expect(page.locator("#status")).to_contain_text("Waiting for a person")
    page.fill("#text", "My order number is 123456")
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot").last).to_contain_text("added that to your request")  # acknowledged while waiting

    page.reload()
    expect(page.locator(".msg")).to_have_count(7)  # the welcome, then all six lines of the conversation
    expect(page.locator(".msg.me").nth(2)).to_have_text("My order number is 123456")
    expect(page.locator("#status")).to_contain_text("Waiting for a person")
    page.screenshot(path=shots / "chat-en-desktop.png")
    page.set_viewport_size(PHONE)
    assert page.evaluate(PLACEHOLDER_FITS)
    page.screenshot(path=shots / "chat-en-390.png")
    page.close()


def test_a_chinese_customer_gets_chinese_chrome_stale_choices_and_a_kept_long_paste(browser, handoff_server, shots):
    live, runtime = handoff_server
    page = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    page.goto(live.url)
    expect(page.locator("#send")).to_have_text("发送")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.title() == "Warmdesk 在线客服" and page.get_attribute("#text", "placeholder") == "请输入您的问题"
    assert page.evaluate(PLACEHOLDER_FITS)

    page.fill("#text", ambiguous_question(runtime))
    page.press("#text", "Enter")
    offered = page.locator(".choices button")
    expect(offered.first).to_be_enabled()
    page.fill("#text", "发票怎么开？")
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot")).to_have_count(3)
    for index in range(offered.count()):
        expect(offered.nth(index)).to_be_disabled()  # a later message makes the old choices stale

    pasted = "很长的说明" * 2010
    page.fill("#text", pasted)
    page.press("#text", "Enter")
    expect(page.locator(".too-long")).to_contain_text("10050")
    assert page.input_value("#text") == pasted and page.locator(".msg.me").count() == 2
    page.fill("#text", "")
    page.screenshot(path=shots / "chat-zh-390.png")
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=shots / "chat-zh-desktop.png")
    page.close()


def test_console_keeps_scroll_and_draft_offers_take_over_and_send_and_buttons_follow_the_state(
    browser, handoff_server, shots
):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    customer.say("我要投诉！快递三个星期了还没到，一直没人理我，太差劲了！")
    handoff_id = newest_requested(runtime)
    for number in range(1, 25):
        customer.say(f"补充第 {number} 条：订单号 20261201{number:02d}，地址在上海市浦东新区")
    console = signed_in_console(browser, live, "lena")
    console.locator(f'.item[data-id="{handoff_id}"]').click()
    expect(console.locator("#heading")).to_contain_text(f"#{handoff_id} · requested")
    expect(console.locator("#claim")).to_be_enabled()
    expect(console.locator("#take-over")).to_be_disabled()
    expect(console.locator("#help")).to_be_disabled()
    expect(console.locator("#hint")).to_contain_text("Slack")
    expect(console.locator("#send")).to_have_text("Claim & send")
    expect(console.locator("#copilot")).to_be_hidden()  # no LLM configured: no copilot buttons
    item = console.locator(f'.item[data-id="{handoff_id}"]')
    expect(item).to_contain_text("web · zh")
    expect(item.locator(".last")).to_contain_text("补充第 24 条")
    expect(console.locator(".line.customer .chip.emotion").first).to_be_visible()
    console.screenshot(path=shots / "console-zh-desktop.png")

    transcript = console.locator("#transcript")
    transcript.evaluate("box => { box.scrollTop = 0; }")
    customer.say("还在吗？")  # a new line arrives while the agent reads the top
    expect(console.locator(".line.customer").last).to_contain_text("还在吗", timeout=10_000)
    console.evaluate("refresh()")
    assert transcript.evaluate("box => box.scrollTop") == 0

    # Someone else claims it meanwhile: the draft survives the refusal and one click takes over and sends.
    bob = signed_in_console(browser, live, "bob")
    bob.locator(f'.item[data-id="{handoff_id}"]').click()
    bob.click("#claim")
    expect(bob.locator("#heading")).to_contain_text("claimed · bob")
    console.evaluate("refresh()")
    expect(console.locator("#send")).to_have_text("Send")
    expect(console.locator("#take-over")).to_be_enabled()
    expect(console.locator("#resolve")).to_be_disabled()
    draft = "您好，我是 Lena，已经查到您的包裹，今天就会派送。"
    console.fill("#reply", draft)
    console.click("#send")
    expect(console.locator("#fix-and-send")).to_have_text("Take over & send")
    assert console.input_value("#reply") == draft
    console.click("#fix-and-send")
    expect(console.locator("#reply")).to_have_value("")
    assert draft in [u["text"] for u in customer.wait_for_updates(2)]

    console.fill("#reply", "x" * 4100)
    expect(console.locator("#count")).to_have_text("4100 / 4000")
    console.click("#send")
    expect(console.locator("#notice")).to_contain_text("limited to 4000")
    assert console.input_value("#reply") == "x" * 4100
    console.fill("#reply", "")

    console.set_viewport_size(PHONE)
    assert console.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(console.locator("#send")).to_be_in_viewport()
    console.screenshot(path=shots / "console-zh-390.png")

    console.click("#resolve")
    expect(console.locator(f'.item[data-id="{handoff_id}"]')).to_have_count(0)  # gone from the open tab
    console.click("#tab-resolved")
    expect(console.locator(f'.item[data-id="{handoff_id}"]')).to_contain_text("resolved")
    expect(console.locator("#reply")).to_be_disabled()
    bob.close()
    console.close()


def test_the_console_in_english_claim_and_send_on_a_new_handoff(browser, handoff_server, shots):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    customer.say("Where is my parcel? I ordered it three weeks ago and it still hasn't arrived!")
    customer.say("I want to talk to a human")
    handoff_id = newest_requested(runtime)
    console = signed_in_console(browser, live, "Ann_Lee")  # sign-in names have no spaces
    console.locator(f'.item[data-id="{handoff_id}"]').click()
    console.fill("#reply", "Hi, Ann here: I am looking at your order now.")
    console.click("#send")  # "Claim & send": one click for both
    expect(console.locator("#heading")).to_contain_text("claimed · Ann_Lee")
    expect(console.locator(".line.agent").last).to_contain_text("Ann here")
    expect(console.locator("#reply")).to_have_value("")
    console.screenshot(path=shots / "console-en-desktop.png")
    console.set_viewport_size(PHONE)
    console.screenshot(path=shots / "console-en-390.png")

    page = browser.new_context(locale="en-US", viewport=PHONE).new_page()
    page.add_init_script(f'localStorage.setItem("warmdesk-session", "{customer.session_id}")')
    page.goto(live.url)
    expect(page.locator("#status")).to_contain_text("from our team is with you.")
    expect(page.locator(".msg.agent .who")).to_contain_text("Ann")
    page.close()
    console.close()


def test_after_solving_the_console_asks_for_an_optional_care_note_and_saves_it(browser, handoff_server, shots):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    customer.say("My order arrived broken and nobody answers my emails. I want a person.")
    handoff_id = newest_requested(runtime)
    handoff = runtime.handoff.repository.get(handoff_id)
    console = signed_in_console(browser, live, "Cara")
    console.locator(f'.item[data-id="{handoff_id}"]').click()
    console.fill("#reply", "So sorry about the cup: a replacement is on its way today.")
    console.click("#send")
    expect(console.locator("#heading")).to_contain_text("claimed · Cara")
    expect(console.locator("#care-note")).to_be_hidden()
    console.click("#resolve")
    expect(console.locator("#care-note-ask")).to_contain_text(f"#{handoff_id} solved. Add a personal care note")
    console.click("#care-note-save")  # nothing written: asked again, nothing stored
    expect(console.locator("#care-note-said")).to_contain_text("Write the note first")
    console.fill("#care-note-text", "Broken cup replaced; prefers email, not calls.")
    console.screenshot(path=shots / "console-care-note-en-desktop.png")
    console.click("#care-note-save")
    expect(console.locator("#care-note-said")).to_contain_text("shown first at the customer's next contact")
    expect(console.locator("#care-note-text")).to_be_hidden()
    note = runtime.care.repository.latest_care_note(handoff.customer_id)
    assert (note.text, note.author, note.handoff_id) == (
        "Broken cup replaced; prefers email, not calls.",
        "console:Cara",
        handoff_id,
    )
    console.click("#care-note-skip")
    expect(console.locator("#care-note")).to_be_hidden()

    customer.say("One more thing, a person please: the saucer is broken too.")  # a second handoff: asked, skipped
    second = newest_requested(runtime)
    console.set_viewport_size(PHONE)
    console.locator(f'.item[data-id="{second}"]').click()
    console.click("#claim")
    expect(console.locator("#heading")).to_contain_text("claimed · Cara")
    console.click("#resolve")
    expect(console.locator("#care-note")).to_be_visible()
    console.screenshot(path=shots / "console-care-note-en-390.png")
    console.click("#care-note-skip")
    expect(console.locator("#care-note")).to_be_hidden()
    assert runtime.care.repository.latest_care_note(handoff.customer_id).handoff_id == handoff_id
    console.close()
