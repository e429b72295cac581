"""The staff app in a real headless Chromium: signing in, a cross-site form refused, two editors colliding on one
entry, history and rollback."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.adapters.conftest import AppServer
from tests.staff.helpers import PASSWORD

pytestmark = pytest.mark.browser


def signed_in_page(browser, base_url: str, name: str, locale: str = "en-US"):
    page = browser.new_context(locale=locale).new_page()
    page.goto(f"{base_url}/staff/kb")
    expect(page.locator("#password")).to_be_visible()  # the page asked for a sign-in first
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("h1")).to_contain_text("Knowledge base" if locale.startswith("en") else "知识库")
    return page


def test_an_editor_signs_in_after_one_wrong_password_and_signs_out(browser, staff_server):
    live, _ = staff_server
    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"{live.url}/staff/login")
    page.fill("#name", "edna")
    page.fill("#password", "not my password")
    page.click("#login")
    expect(page.locator("#error")).to_have_text("Wrong name or password.")
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("h1")).to_have_text("Welcome, edna")
    page.click("#signout")
    expect(page.locator("#password")).to_be_visible()
    page.goto(f"{live.url}/staff/kb")
    expect(page.locator("#error")).to_have_text("Please sign in.")
    page.context.close()


def test_a_form_posted_from_another_site_is_refused(browser, staff_server):
    live, runtime = staff_server
    evil_page = f"""<!doctype html><form id="f" method="post" action="{live.url}/staff/kb/remove">
        <input name="id" value="order_cancel"><input name="csrf" value="guessed"></form>
        <script>document.getElementById('f').submit()</script>"""
    evil = AppServer(Starlette(routes=[Route("/", lambda request: HTMLResponse(evil_page))]))
    with evil:
        page = signed_in_page(browser, live.url, "edna")
        page.goto(evil.url)
        page.wait_for_url(f"{live.url}/staff/kb/remove")
        expect(page.locator("body")).to_contain_text("cross-site request refused")
        page.context.close()
    assert runtime.faqs.get("order_cancel") is not None


def test_two_editors_on_one_entry_the_second_sees_the_conflict_and_keeps_their_text(browser, staff_server):
    live, runtime = staff_server
    edna, ada = signed_in_page(browser, live.url, "edna"), signed_in_page(browser, live.url, "ada")
    for page in (edna, ada):
        page.goto(f"{live.url}/staff/kb/edit?id=order_change_address")
    edna.fill("#answer_en", "Change it in My Orders before it ships (edna).")
    edna.click("#save")
    expect(edna.locator(".notice")).to_contain_text("Saved as revision")
    ada.fill("#answer_en", "Write to us and we change it (ada).")
    ada.click("#save")
    expect(ada.locator("#conflict")).to_contain_text("edna saved this entry")
    expect(ada.locator("#answer_en")).to_have_value("Write to us and we change it (ada).")
    expect(ada.locator("#live")).to_contain_text("(edna)")
    ada.click("#save")
    expect(ada.locator(".notice")).to_contain_text("Saved as revision")
    assert runtime.faqs.get("order_change_address").answer_en == "Write to us and we change it (ada)."
    edna.context.close()
    ada.context.close()


def test_history_shows_the_diff_and_rolls_back_in_one_click(browser, staff_server):
    live, runtime = staff_server
    original = runtime.faqs.get("order_ship_time")
    page = signed_in_page(browser, live.url, "edna")
    page.goto(f"{live.url}/staff/kb/edit?id=order_ship_time")
    page.fill("#answer_en", "Within the hour.")
    page.click("#save")
    expect(page.locator(".notice")).to_contain_text("Saved as revision")
    page.click("#history")
    expect(page.locator("#diff .added")).to_contain_text("Within the hour.")
    first = runtime.faqs.history("order_ship_time")[0].revision
    page.click(f"#rollback-{first}-button")
    expect(page.locator(".notice")).to_contain_text(f"back at the content of revision {first}")
    assert runtime.faqs.get("order_ship_time") == original
    page.context.close()


def test_chinese_editors_get_the_chinese_pages(browser, staff_server):
    live, _ = staff_server
    page = signed_in_page(browser, live.url, "edna", locale="zh-CN")
    expect(page.locator("#count")).to_contain_text("条缺中文")
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Knowledge base")
    page.context.close()


def test_an_editor_approves_a_draft_from_traffic(browser, staff_server):
    live, runtime = staff_server
    from tests.staff.test_drafts import handoff_answered

    handoff_answered(live, runtime, "Can I collect my order in the shop?", "Yes, choose Pick up at checkout.")
    page = signed_in_page(browser, live.url, "edna")
    page.goto(f"{live.url}/staff/kb/drafts")
    card = page.locator(".draft", has_text="Can I collect my order in the shop?")
    card.locator(".approve").click()
    expect(page.locator("#answer_en")).to_have_value("Yes, choose Pick up at checkout.")
    page.fill("#answer_zh", "可以，结账时选择“到店自提”。")
    page.click("#save")
    expect(page.locator(".notice")).to_contain_text("Saved as revision 1")
    page.goto(f"{live.url}/staff/kb/drafts")
    expect(page.locator(".draft", has_text="Can I collect my order in the shop?")).to_have_count(0)
    assert runtime.knowledge.search("Can I collect my order in the shop?").decision == "answer"
    page.context.close()


def test_an_editor_approves_from_the_gap_queue_and_the_bot_then_answers(browser, staff_server):
    live, runtime = staff_server
    from tests.handoff.live import WebCustomer

    wording = "do you do present vouchers"
    WebCustomer(live.url).say(wording)
    page = signed_in_page(browser, live.url, "edna")
    page.goto(f"{live.url}/staff/kb/gaps")
    card = page.locator(".gap", has_text=wording)
    expect(card.locator(".gap-facts")).to_contain_text("Asked 1 time(s)")
    card.locator("input[name=faq_id]").fill("gift_card")
    card.locator(".attach").click()
    expect(page.locator(".notice")).to_contain_text("a new question for gift_card")
    expect(page.locator(".gap", has_text=wording)).to_have_count(0)
    page.click("text=Drafts")
    draft = page.locator(".draft", has_text=wording)
    draft.locator(".approve").click()
    expect(page.locator(".notice")).to_contain_text("now answers with gift_card")
    assert runtime.knowledge.search(wording).faq_id == "gift_card"
    assert WebCustomer(live.url).say(wording)["replies"][0]["kind"] == "answer"
    page.context.close()
