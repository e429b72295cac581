"""The managers' pages over real HTTP with the staff sign-in, and in a real headless Chromium: the manager (and
admin) sees the dashboard, customer pages and the digest with the hand-counted figures; an agent or editor gets
403 on pages and API alike; nobody signed in gets the sign-in form (pages) or 401 (API); every view is audited."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.emotion.profile import ConversationSummary, ProfileRules, negative_conversation_alert
from storage.db import Database
from storage.emotions import EmotionStore
from storage.models import AuditLog, CareNote, Customer, utcnow
from tests.adapters.conftest import AppServer
from tests.insights import fixture
from tests.insights.pages_app import TOKEN, add_staff, pages_app
from tests.staff.helpers import PASSWORD, hidden, sign_in

RANGE = "from=2026-11-02&to=2026-11-15"
MANAGER_PAGES = ("/staff/insights", "/staff/customers", "/staff/customers/{B}", "/staff/insights/digest")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("insight-pages")
    db = Database(f"sqlite:///{data / 'crm.db'}")
    db.migrate()
    made = fixture.build(db)
    with db.session() as session:
        session.add(CareNote(customer_id=made.customers["B"], author="bob", text="mother in hospital: ask first"))
    add_staff(db)
    server = AppServer(pages_app(db, data))
    server.start()
    clients = {name: sign_in(server.url, name) for name in ("mona", "aggie", "edna", "ada")}
    yield server, db, made, clients
    for client in clients.values():
        client.close()
    server.stop()
    db.dispose()


def audit(db: Database, actor: str) -> list[tuple[str, str | None]]:
    with db.session() as session:
        return [(a.action, a.target) for a in session.exec(select(AuditLog).where(AuditLog.actor == actor))]


def cells(html: str, label: str) -> list[str]:
    """The all / zh / en cells of one summary row of the dashboard."""
    match = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", html)
    assert match, f"no row {label!r}"
    return re.findall(r'<td class="num">([^<]*)</td>', match.group(1))


def test_the_manager_sees_every_figure_by_language_and_the_view_is_audited(site):
    _, db, _, clients = site
    page = clients["mona"].get(f"/staff/insights?{RANGE}&lang=en")
    assert page.status_code == 200
    html = page.text
    for title in ("Bot resolution", "Handoffs and their reasons", "Customer satisfaction (CSAT)", "Customer effort"):
        assert title in html
    assert 'data-chart="negative_heatmap-0"' in html and "/staff/static/vendor/echarts/echarts.min.js" in html
    # counted by hand in tests/insights/fixture.py: c1..c5 started, 2 of them B's (zh)
    assert cells(html, "Conversations") == ["5", "2", "3"]
    assert cells(html, "Bot resolution rate") == ["27.3 %", "20.0 %", "33.3 %"]  # 3/11, 1/5, 2/6
    assert cells(html, "Handoff rate") == ["40.0 %", "50.0 %", "33.3 %"]  # c1 and c3 of 5; c3 of 2; c1 of 3
    assert cells(html, "Average rating") == ["3.5", "2", "5"]  # h1 5 (en), h2 2 (zh); h4 was forgotten
    assert cells(html, "Unanswered rate") == ["18.2 %", "20.0 %", "16.7 %"]  # m9, m19 of 11; m9 of 5; m19 of 6
    assert ("insights.view", "page:dashboard") in audit(db, "staff:mona")


def test_filters_narrow_the_dashboard(site):
    html = site[3]["mona"].get(f"/staff/insights?{RANGE}&tier=vip&lang=en").text
    assert cells(html, "Conversations") == ["2", "2", "0"]  # B is the only vip
    assert 'value="vip" selected' in html


def test_the_dashboard_reads_in_chinese(site):
    html = site[3]["mona"].get(f"/staff/insights?{RANGE}&lang=zh").text
    assert "机器人解决率" in html and "客户满意度（CSAT）" in html
    assert cells(html, "会话") == ["5", "2", "3"]


def test_a_bad_range_is_a_clear_error_on_the_page(site):
    page = site[3]["mona"].get("/staff/insights?from=2026-11-15&to=2026-11-02&lang=en")
    assert page.status_code == 422
    assert "must come after" in page.text and 'id="range-error"' in page.text
    chinese = site[3]["mona"].get("/staff/insights?from=2026-11-15&to=2026-11-02&lang=zh")
    assert chinese.status_code == 422 and "“结束”必须晚于“开始”。" in chinese.text and "must come" not in chinese.text
    digest = site[3]["mona"].get("/staff/insights/digest?to=not-a-day&lang=zh")
    assert digest.status_code == 422 and "“结束（含当天）”不是日期" in digest.text


@pytest.mark.parametrize("who", ["aggie", "edna"])
def test_staff_without_the_manager_role_get_403_on_pages_and_api_and_it_is_audited(site, who):
    _, db, made, clients = site
    for path in (*MANAGER_PAGES, "/staff/api/insights/volume.json", "/staff/api/customers"):
        path = path.format(B=made.customers["B"])
        answer = clients[who].get(path, headers={"accept": "text/html"})
        assert answer.status_code == 403, path
        assert "Mona" not in answer.text and "王波" not in answer.text
    assert ("staff.forbidden", "/staff/insights") in audit(db, f"staff:{who}")


def test_nobody_signed_in_gets_the_sign_in_form_or_401(site):
    server, _, made, _ = site
    with httpx.Client(base_url=server.url) as anonymous:
        page = anonymous.get("/staff/insights", headers={"accept": "text/html"})
        assert page.status_code == 401 and 'name="password"' in page.text
        assert anonymous.get(f"/staff/customers/{made.customers['B']}").status_code == 401
        assert anonymous.get("/staff/api/insights/volume.json").status_code == 401


def test_admin_sees_the_pages_and_scripts_keep_the_bearer_token(site):
    server, db, made, clients = site
    for path in MANAGER_PAGES:
        assert clients["ada"].get(path.format(B=made.customers["B"])).status_code == 200
    with httpx.Client(base_url=server.url) as script:
        bearer = {"authorization": f"Bearer {TOKEN}", "x-agent-name": "nightly"}
        answer = script.get(f"/staff/api/insights/volume.json?{RANGE}", headers=bearer)
        assert answer.status_code == 200 and answer.json()["summary"]["all"]["conversations"] == 5
    assert ("insights.view", "figure:volume") in audit(db, "staff:nightly")


def test_the_customer_list_searches_by_name_identity_phone_and_email(site):
    _, db, made, clients = site
    mona = clients["mona"]
    for query in ("王", "o-wangbo", "+8613800000000"):
        html = mona.get("/staff/customers", params={"q": query, "lang": "en"}).text
        assert f'href="/staff/customers/{made.customers["B"]}">王波</a>' in html, query
        assert "Alice" not in html
    assert "Alice" in mona.get("/staff/customers", params={"q": "alice@example.com"}).text
    assert 'id="none"' in mona.get("/staff/customers", params={"q": "Dora"}).text  # she was forgotten
    vip = mona.get("/staff/customers", params={"tier": "vip", "lang": "en"}).text
    assert "1 customers" in vip and "王波" in vip
    assert ("customer.search", "page:customers") in audit(db, "staff:mona")


def test_the_customer_page_shows_their_story_with_care_notes_first(site):
    _, db, made, clients = site
    html = clients["mona"].get(f"/staff/customers/{made.customers['B']}?lang=en").text
    for shown in ("o-wangbo", "555", "summary of h2", "★★", "403 blocked", "prefers WeChat", "can be wrong"):
        assert shown in html, shown
    assert html.index("mother in hospital") < html.index("prefers WeChat")  # the care note comes first
    assert 'data-chart="timeline"' in html
    assert "Forget this customer" not in html  # a manager is not an admin
    assert ("customer.view", f"customer:{made.customers['B']}") in audit(db, "staff:mona")
    missing = clients["mona"].get(f"/staff/customers/{made.customers['D']}")
    assert missing.status_code == 404  # Dora asked to be forgotten


def test_the_weekly_digest_page(site):
    _, db, _, clients = site
    html = clients["mona"].get("/staff/insights/digest?to=2026-11-15&lang=en").text
    # the week 11-09..11-15 against 11-02..11-08: B's c3 and C's c4, c5 against c1 and c2
    assert re.search(r"<td>Conversations</td><td class=\"num\">3</td><td class=\"num\">2</td>", html)
    assert "Top frustration topics" in html and "hours" in html  # m13: angry about the hours
    assert ("insights.digest", "page:digest") in audit(db, "staff:mona")


def test_an_emotion_alerts_reason_reads_in_the_pages_language(site):
    _, db, _, clients = site
    with db.session() as session:
        upset = Customer(display_name="Upset", language="en")
        session.add(upset)
        session.flush()
        upset_id = upset.id
    summaries = [
        ConversationSummary(str(n), n * 86400.0, n * 86400.0 + 60, 3, True, False, False, -0.5, None) for n in (1, 9)
    ]
    reason = negative_conversation_alert(summaries, ProfileRules(alert_negative_conversations=2))
    EmotionStore(db).raise_alert(upset_id, reason, not_since=utcnow() - timedelta(days=1))
    chinese = clients["mona"].get(f"/staff/customers/{upset_id}?lang=zh").text
    assert "30 天内有 2 次负面会话" in chinese and "negative conversations" not in chinese
    english = clients["mona"].get(f"/staff/customers/{upset_id}?lang=en").text
    assert "2 negative conversations within 30 days" in english


def test_an_admin_can_forget_a_customer_from_their_page_with_the_form(site):
    _, db, _, clients = site
    with db.session() as session:
        victim = Customer(display_name="Temp", language="en")
        session.add(victim)
        session.flush()
        victim_id = victim.id
    ada = clients["ada"]
    page = ada.get(f"/staff/customers/{victim_id}?lang=en")
    assert "Forget this customer" in page.text
    unconfirmed = ada.post(f"/staff/customers/{victim_id}/forget", data={"csrf": hidden(page.text, "csrf")})
    assert unconfirmed.status_code == 422
    done = ada.post(f"/staff/customers/{victim_id}/forget", data={"csrf": hidden(page.text, "csrf"), "confirm": "yes"})
    assert done.status_code == 303
    assert ada.get(f"/staff/customers/{victim_id}").status_code == 404
    assert clients["mona"].post("/staff/customers/1/forget", data={"confirm": "yes"}).status_code == 403


def test_in_chromium_the_manager_sees_drawn_charts_with_their_tables(site, browser):
    server, _, made, _ = site
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{server.url}/staff/login?next=/staff/insights%3F{RANGE.replace('&', '%26')}")
    page.fill("#name", "mona")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("[data-chart][data-drawn=true]")
    drawn = page.locator("[data-chart][data-drawn=true]")
    assert drawn.count() == page.locator("[data-chart]").count() == 11  # csat has two charts
    assert page.locator("#fig-negative_heatmap svg").count() >= 1
    assert "愤怒" in page.locator("#fig-emotion_mix").inner_text()  # the legend reads in Chinese
    page.locator("#fig-sla details summary").click()
    assert "ann" in page.locator("#fig-sla details table").inner_text()
    page.goto(f"{server.url}/staff/customers/{made.customers['B']}")
    page.wait_for_selector("[data-chart=timeline][data-drawn=true]")
    assert "王波" in page.locator("h1").inner_text()
    context.close()
