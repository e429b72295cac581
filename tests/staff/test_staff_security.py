"""Staff sign-in over real HTTP: passwords, throttling, expiry, sign-out, cross-site and CSRF refusals, roles."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import httpx
from sqlmodel import select

from storage.models import AuditLog, utcnow
from tests.handoff.live import AGENT_TOKEN, WebCustomer
from tests.staff.helpers import PASSWORD, csrf_of, hidden, sign_in


def audit_lines(runtime, action: str, actor: str | None = None) -> list[AuditLog]:
    with runtime.db.session() as session:
        query = select(AuditLog).where(AuditLog.action == action)
        if actor:
            query = query.where(AuditLog.actor == actor)
        return list(session.exec(query).all())


@contextmanager
def after_the_throttling_window(auth):
    real_clock = auth.clock
    auth.clock = lambda: real_clock() + timedelta(minutes=auth.settings.login_window_minutes + 1)
    try:
        yield
    finally:
        auth.clock = real_clock


def test_right_password_signs_in_and_wrong_one_is_refused_and_audited(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    assert edna.last_login.status_code == 303
    cookie = edna.last_login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie and "Max-Age=" in cookie
    assert "Welcome, edna" in edna.get("/staff").text

    wrong = sign_in(live.url, "edna", "not the password")
    assert wrong.last_login.status_code == 401
    assert "Wrong name or password." in wrong.last_login.text
    assert wrong.get("/staff").status_code == 401  # no session was opened
    assert audit_lines(runtime, "staff.login_failed", "staff:edna")
    nobody = sign_in(live.url, "nobody-here", PASSWORD)
    assert nobody.last_login.status_code == 401 and "Wrong name or password." in nobody.last_login.text


def test_many_wrong_passwords_for_one_name_lock_it_for_the_window_even_with_the_right_one(staff_server, auth):
    live, runtime = staff_server
    from storage.staff import StaffRepository

    StaffRepository(runtime.db).add("tessa", ["editor"], PASSWORD)
    for _ in range(auth.settings.login_max_failures_per_name):
        assert sign_in(live.url, "tessa", "guess guess guess").last_login.status_code == 401
    locked = sign_in(live.url, "tessa", PASSWORD)
    assert locked.last_login.status_code == 429 and "Too many wrong sign-ins" in locked.last_login.text
    assert audit_lines(runtime, "staff.login_throttled", "staff:tessa")
    with after_the_throttling_window(auth):
        assert sign_in(live.url, "tessa", PASSWORD).last_login.status_code == 303


def test_one_address_trying_many_names_is_throttled(staff_server, auth):
    live, _ = staff_server
    # other tests of this module may already have failed from 127.0.0.1; fill up to the limit
    for number in range(auth.settings.login_max_failures_per_address):
        response = sign_in(live.url, f"guess{number}", "wrong wrong wrong").last_login
        if response.status_code == 429:
            break
    assert sign_in(live.url, "edna", PASSWORD).last_login.status_code == 429
    with after_the_throttling_window(auth):
        assert sign_in(live.url, "edna", PASSWORD).last_login.status_code == 303


def test_a_session_ends_after_its_lifetime_and_after_idling(staff_server, auth):
    live, _ = staff_server
    real_clock = auth.clock
    start = utcnow()
    try:
        auth.clock = lambda: start
        edna = sign_in(live.url, "edna")
        auth.clock = lambda: start + timedelta(minutes=auth.settings.staff_idle_minutes - 1)
        assert edna.get("/staff").status_code == 200
        auth.clock = lambda: start + timedelta(minutes=2 * auth.settings.staff_idle_minutes + 1)
        expired = edna.get("/staff", headers={"accept": "text/html"})
        assert expired.status_code == 401 and 'id="password"' in expired.text and "Please sign in." in expired.text

        auth.clock = lambda: start
        edna = sign_in(live.url, "edna")
        for hour in range(1, int(auth.settings.staff_session_hours) + 2):  # active all day, still ends
            auth.clock = lambda hour=hour: start + timedelta(hours=hour)
            last = edna.get("/staff")
        assert last.status_code == 401
    finally:
        auth.clock = real_clock


def test_sign_out_ends_the_session_on_the_server(staff_server):
    live, _ = staff_server
    edna = sign_in(live.url, "edna")
    stolen = dict(edna.cookies)
    assert edna.post("/staff/logout", data={"csrf": csrf_of(edna)}).status_code == 303
    replay = httpx.get(f"{live.url}/staff", cookies=stolen)
    assert replay.status_code == 401


def test_forms_without_the_csrf_token_or_from_another_origin_are_refused(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    entry = {"id": "csrf-probe", "questions": "q?", "answer_en": "a", "revision": "0"}
    assert edna.post("/staff/kb/edit", data=entry).status_code == 403
    assert runtime.faqs.get("csrf-probe") is None
    evil = {"origin": "http://127.0.0.1:1"}
    token = csrf_of(edna)
    assert edna.post("/staff/kb/edit", data={**entry, "csrf": token}, headers=evil).status_code == 403
    no_origin = httpx.post(f"{live.url}/staff/kb/edit", data={**entry, "csrf": token}, cookies=dict(edna.cookies))
    assert no_origin.status_code == 403
    assert runtime.faqs.get("csrf-probe") is None
    assert audit_lines(runtime, "staff.csrf_refused", "staff:edna")
    assert audit_lines(runtime, "staff.cross_site_refused", "staff:edna")
    assert edna.post("/staff/kb/edit", data={**entry, "csrf": token}).status_code == 200
    assert runtime.faqs.get("csrf-probe") is not None


def test_the_sign_in_form_itself_needs_its_token_and_the_same_origin(staff_server):
    live, _ = staff_server
    client = httpx.Client(base_url=live.url, headers={"origin": live.url})
    form = client.get("/staff/login")
    data = {"name": "edna", "password": PASSWORD, "login_csrf": "forged"}
    refused = client.post("/staff/login", data=data)
    assert refused.status_code == 403 and "too old" in refused.text
    data["login_csrf"] = hidden(refused.text, "login_csrf")  # every form shown carries a fresh token
    refused = client.post("/staff/login", data=data, headers={"origin": "http://evil.example"})
    assert refused.status_code == 403
    data["login_csrf"] = hidden(refused.text, "login_csrf")
    assert client.post("/staff/login", data=data).status_code == 303
    assert form.status_code == 200


def test_console_claims_from_another_origin_are_refused_but_bearer_scripts_are_not(staff_server):
    live, runtime = staff_server
    customer = WebCustomer(live.url)
    customer.say("I want to talk to a human")
    handoff_id = max(h.id for h in runtime.handoff.repository.queue())
    aggie = sign_in(live.url, "aggie", next_path="/agent")
    assert aggie.get("/agent").status_code == 200
    cross = aggie.post(f"/agent/api/handoffs/{handoff_id}/claim", headers={"origin": "http://127.0.0.1:9"})
    assert cross.status_code == 403
    assert runtime.handoff.repository.get(handoff_id).agent is None
    assert audit_lines(runtime, "staff.cross_site_refused", "staff:aggie")
    assert aggie.post(f"/agent/api/handoffs/{handoff_id}/claim").json()["ok"]
    assert runtime.handoff.repository.get(handoff_id).agent == "console:aggie"
    bearer = {"authorization": f"Bearer {AGENT_TOKEN}", "x-agent-name": "script"}
    assert httpx.get(f"{live.url}/agent/api/handoffs", headers=bearer).status_code == 200


def test_an_editor_reaching_console_actions_gets_403_and_it_is_audited(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    assert edna.get("/agent", headers={"accept": "text/html"}).status_code == 403
    assert edna.post("/agent/api/handoffs/1/claim").status_code == 403
    assert edna.get("/agent/api/handoffs").status_code == 403
    refused = audit_lines(runtime, "staff.forbidden", "staff:edna")
    assert {line.target for line in refused} >= {"/agent", "/agent/api/handoffs/1/claim"}


def test_an_agent_reaching_kb_editing_gets_403_and_it_is_audited(staff_server):
    live, runtime = staff_server
    aggie = sign_in(live.url, "aggie")
    page = aggie.get("/staff/kb", headers={"accept": "text/html"})
    assert page.status_code == 403 and "Not allowed" in page.text
    save = aggie.post(
        "/staff/kb/edit",
        data={"csrf": csrf_of(aggie), "id": "agent-edit", "questions": "q", "answer_en": "a", "revision": "0"},
    )
    assert save.status_code == 403 and runtime.faqs.get("agent-edit") is None
    assert {line.target for line in audit_lines(runtime, "staff.forbidden", "staff:aggie")} >= {
        "/staff/kb",
        "/staff/kb/edit",
    }


def test_a_manager_may_read_the_kb_but_not_change_it(staff_server):
    live, _ = staff_server
    mona = sign_in(live.url, "mona")
    assert mona.get("/staff/kb").status_code == 200
    removed = mona.post("/staff/kb/remove", data={"csrf": csrf_of(mona), "id": "anything"})
    assert removed.status_code == 403


def test_the_bootstrap_token_signs_in_as_admin_but_never_as_an_existing_account(staff_server):
    live, _ = staff_server
    boot = sign_in(live.url, "boot", AGENT_TOKEN)
    assert boot.last_login.status_code == 303 and "Your roles: admin" in boot.get("/staff").text
    assert sign_in(live.url, "edna", AGENT_TOKEN).last_login.status_code == 401


def test_a_disabled_account_is_signed_out_everywhere(staff_server):
    live, runtime = staff_server
    from storage.staff import StaffRepository

    staff = StaffRepository(runtime.db)
    staff.add("leaver", ["editor"], PASSWORD)
    leaver = sign_in(live.url, "leaver")
    assert leaver.get("/staff").status_code == 200
    staff.disable("leaver")
    assert leaver.get("/staff").status_code == 401
    assert sign_in(live.url, "leaver").last_login.status_code == 401


def test_staff_pages_are_audited_with_the_staff_actor(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    edna.get("/staff/kb", params={"q": "refund"})
    lines = audit_lines(runtime, "kb.list", "staff:edna")
    assert any(line.detail and line.detail.get("q") == "refund" for line in lines)


def test_a_next_link_never_leaves_the_site(staff_server):
    live, _ = staff_server
    client = sign_in(live.url, "edna", next_path="//evil.example/x")
    assert client.last_login.headers["location"] == "/staff"
