"""The console's copilot buttons in a real headless Chromium against the fake LLM: a suggested reply lands in the
reply box and is never sent by itself, translations show under the customer's lines, the agent's reply is put into
the customer's language, and loading and failure are visible. Screenshots (desktop and 390 px, a Chinese and an
English customer) are kept with WARMDESK_SCREENSHOTS_DIR, as in tests/adapters/test_pages_browser.py."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from benchmarks.fake_llm_server import Reply, grounded, payload_of
from tests.adapters.conftest import LiveServer, browser  # noqa: F401 (the browser fixture)
from tests.handoff.live import WebCustomer
from tests.llm.conftest import AGENT_TOKEN

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 780}
DESKTOP = {"width": 1200, "height": 760}


@pytest.fixture(scope="module")
def server(llm_runtime):
    with LiveServer(llm_runtime) as live:
        yield live


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("copilot-screenshots")
    yield folder
    keep = os.environ.get("WARMDESK_SCREENSHOTS_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.png"):
            shutil.copy(shot, Path(keep) / shot.name)


def console(browser, server, name: str):  # noqa: F811
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{server.url}/agent")
    page.fill("#name", name)
    page.fill("#password", AGENT_TOKEN)
    page.click("#login")
    expect(page.locator("#me")).to_contain_text(name)
    return page


def handoff_of(runtime, customer: WebCustomer, *texts: str) -> int:
    before = {h.id for h in runtime.handoff.repository.queue()}
    for text in texts:
        customer.say(text)
    (handoff_id,) = {h.id for h in runtime.handoff.repository.queue()} - before
    return handoff_id


def test_suggest_and_translate_fill_the_reply_box_and_send_nothing(browser, server, fake, llm_runtime, shots):  # noqa: F811
    page = console(browser, server, "lena")  # the console is open: a person is there, so handoffs open
    customer = WebCustomer(server.url)
    handoff_id = handoff_of(llm_runtime, customer, "运费多少钱？", "我要人工客服")
    page.locator(f'.item[data-id="{handoff_id}"]').click()
    expect(page.locator("#heading")).to_contain_text(f"#{handoff_id} · requested")
    expect(page.locator("#copilot")).to_be_visible()
    expect(page.locator("#translate-lines")).to_have_text("Translate messages to English")
    expect(page.locator("#translate-reply")).to_be_disabled()  # nothing written yet

    # Loading: the fake holds its answer until the page has shown that it is drafting.
    release = threading.Event()

    def held(request):
        release.wait(10)
        return grounded(request)

    fake.behaviour = held
    page.click("#suggest")
    expect(page.locator("#copilot-status")).to_have_text("Drafting a reply…")
    expect(page.locator("#suggest")).to_be_disabled()
    release.set()
    expect(page.locator("#copilot-status")).to_contain_text("not sent")
    fake.behaviour = grounded
    suggested = [r for r in fake.requests if "transcript" in (payload_of(r) or {}) and "entries" in payload_of(r)]
    faq_answer = payload_of(suggested[-1])["entries"][0]["answer"]  # the fake drafts the top entry's answer
    expect(page.locator("#reply")).to_have_value(faq_answer)
    expect(page.locator(".line.agent")).to_have_count(0)
    assert faq_answer not in [u["text"] for u in customer.updates()]  # the customer got nothing
    assert llm_runtime.handoff.repository.get(handoff_id).status == "requested"  # not even claimed

    page.click("#translate-lines")
    expect(page.locator(".line.customer .translation").first).to_have_text("[translated] 运费多少钱？")
    expect(page.locator("#copilot-status")).to_contain_text("to English")
    page.screenshot(path=shots / "console-copilot-zh-desktop.png")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator("#suggest")).to_be_in_viewport()
    page.screenshot(path=shots / "console-copilot-zh-390.png")
    page.set_viewport_size(DESKTOP)

    page.fill("#reply", "Your parcel left our warehouse today.")
    page.click("#translate-reply")
    expect(page.locator("#reply")).to_have_value("[translated] Your parcel left our warehouse today.")
    expect(page.locator("#copilot-status")).to_contain_text("original is kept on record")

    # The LLM fails: the agent is told, and what is in the box stays.
    fake.behaviour = lambda request: Reply(status=500)
    page.click("#suggest")
    expect(page.locator("#copilot-status")).to_contain_text("unavailable")
    expect(page.locator("#copilot-status")).to_have_class("problem")
    expect(page.locator("#reply")).to_have_value("[translated] Your parcel left our warehouse today.")
    page.close()


def test_an_english_draft_is_added_below_what_the_agent_already_typed(browser, server, fake, llm_runtime, shots):  # noqa: F811
    page = console(browser, server, "ann")
    customer = WebCustomer(server.url)
    handoff_id = handoff_of(llm_runtime, customer, "How much is shipping?", "I want to talk to a human")
    page.locator(f'.item[data-id="{handoff_id}"]').click()
    expect(page.locator("#translate-lines")).to_have_text("Translate messages to Chinese")
    page.fill("#reply", "Hi, Ann here.")
    page.click("#suggest")
    expect(page.locator("#copilot-status")).to_contain_text("not sent")
    value = page.input_value("#reply")
    assert value.startswith("Hi, Ann here.\n\n") and len(value) > len("Hi, Ann here.\n\n")
    page.screenshot(path=shots / "console-copilot-en-desktop.png")
    page.set_viewport_size(PHONE)
    page.screenshot(path=shots / "console-copilot-en-390.png")

    page.set_viewport_size(DESKTOP)
    page.click("#claim")
    expect(page.locator("#resolve")).to_be_enabled()
    page.click("#resolve")  # a closed handoff has no reply to draft: the buttons say why they are off
    page.click("#tab-resolved")
    page.locator(f'.item[data-id="{handoff_id}"]').click()
    expect(page.locator("#suggest")).to_be_disabled()
    expect(page.locator("#suggest")).to_have_attribute("title", "This handoff is closed: there is no reply to write.")
    page.close()
