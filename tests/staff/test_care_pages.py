"""The staff app's care pages over real HTTP and in a real Chromium: an account manager reads their alerts,
finishes and hands on tasks (a WeChat follow-up the window would not carry holds its message), and cancels a
scheduled follow-up; roles, the Origin check and the CSRF token guard every change, and each one is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from storage.models import JobStatus, ScheduledJob, utcnow
from tests.staff.care_seed import seed_care
from tests.staff.helpers import PASSWORD, csrf_of, sign_in
from tests.staff.test_staff_security import audit_lines


@pytest.fixture(scope="module")
def seeded(staff_server):
    return seed_care(staff_server[1])


def signed_in(browser, live, name: str, path: str, locale: str = "en-US"):
    page = browser.new_context(locale=locale).new_page()
    page.goto(f"{live.url}/staff/login?next={path}")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator(".care-tabs")).to_be_visible()
    return page


def test_only_agents_and_managers_see_the_care_pages_and_editors_are_refused(staff_server, seeded):
    live, runtime = staff_server
    for name in ("aggie", "mona", "ada"):
        client = sign_in(live.url, name)
        for path in ("/staff/care", "/staff/care/tasks", "/staff/care/jobs"):
            assert client.get(path).status_code == 200, (name, path)
        assert 'href="/staff/care"' in client.get("/staff").text
    editor = sign_in(live.url, "edna")
    assert editor.get("/staff/care/tasks").status_code == 403
    assert 'href="/staff/care"' not in editor.get("/staff").text
    assert audit_lines(runtime, "staff.forbidden", "staff:edna")
    assert sign_in(live.url, "nobody", "wrong").get("/staff/care").status_code == 401


def test_a_change_without_the_forms_token_or_from_another_site_is_refused_and_nothing_moves(staff_server, seeded):
    live, runtime = staff_server
    aggie = sign_in(live.url, "aggie")
    no_token = aggie.post(f"/staff/care/jobs/{seeded.checkin_job}/cancel", data={"csrf": "guessed"})
    assert no_token.status_code == 403 and "security token" in no_token.text
    cross_site = aggie.post(
        f"/staff/care/tasks/{seeded.task_id}/done",
        data={"csrf": csrf_of(aggie, "/staff/care/tasks")},
        headers={"origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403 and "cross-site" in cross_site.text
    assert runtime.care.jobs.get(seeded.checkin_job).status == JobStatus.PENDING
    assert runtime.care.repository.task(seeded.task_id).status == "open"
    assert audit_lines(runtime, "staff.csrf_refused", "staff:aggie")


def test_filters_show_one_managers_churn_warnings_and_unknown_rows_answer_404(staff_server, seeded):
    live, runtime = staff_server
    mona = sign_in(live.url, "mona")
    page = mona.get("/staff/care", params={"for": "aggie", "kind": "churn"}).text
    assert "has not ordered or written for 90 days" in page and "hard time" not in page
    team = mona.get("/staff/care", params={"for": "care-team"}).text
    assert "Lee Morgan" in team and "王芳" not in team
    token = csrf_of(mona, "/staff/care/tasks")
    assert mona.post("/staff/care/tasks/999999/done", data={"csrf": token}).status_code == 404
    assert mona.post("/staff/care/jobs/999999/cancel", data={"csrf": token}).status_code == 404
    bad_name = mona.post(f"/staff/care/tasks/{seeded.task_id}/assign", data={"csrf": token, "assignee": "<b>"})
    assert bad_name.status_code == 422
    before = runtime.care.repository.task(seeded.task_id).due_at
    assert "overdue" in mona.get("/staff/care/tasks").text  # due two hours ago
    snoozed = mona.post(f"/staff/care/tasks/{seeded.task_id}/snooze", data={"csrf": token, "hours": "24"})
    assert snoozed.status_code == 303  # back to the list, with the notice
    assert "Task snoozed." in mona.get(snoozed.headers["location"]).text
    assert runtime.care.repository.task(seeded.task_id).due_at - before > timedelta(hours=23)
    assert audit_lines(runtime, "task.snoozed", "staff:mona")


def test_notices_tasks_and_job_results_are_shown_in_the_pages_language_not_the_agents(staff_server, seeded):
    live, runtime = staff_server  # the notices were written while the agent-side language was English
    mona = sign_in(live.url, "mona")
    zh_inbox = mona.get("/staff/care", params={"lang": "zh", "for": "aggie"}).text
    assert "需要关注：30 天内有 2 次负面会话。" in zh_inbox
    assert "在会话 #41 中情绪持续负面" in zh_inbox and "流失预警：客户" in zh_inbox and "天没有下单或联系" in zh_inbox
    assert "您有新任务" in zh_inbox and "回访客户（康复期跟进）" in zh_inbox
    for english in ("needs attention", "hard time", "has not ordered", "New task", "Check in with"):
        assert english not in zh_inbox
    zh_tasks = mona.get("/staff/care/tasks", params={"lang": "zh"}).text
    assert "回访客户（康复期跟进）" in zh_tasks and "微信 48 小时 / 5 条消息的窗口已关闭" in zh_tasks
    assert "Contact the customer" not in zh_tasks and "上次的问题都解决了吧？" in zh_tasks
    en_inbox = mona.get("/staff/care", params={"lang": "en", "for": "aggie"}).text
    assert "needs attention: 2 negative conversations within 30 days." in en_inbox and "需要关注" not in en_inbox
    en_tasks = mona.get("/staff/care/tasks", params={"lang": "en"}).text
    assert "Check in with the customer" in en_tasks and "window is closed. Contact the customer" in en_tasks
    job, _ = runtime.care.jobs.schedule("followup.csat", utcnow() + timedelta(days=1), {}, dedup_key="ran-before")
    with runtime.db.session() as session:  # as the scheduler leaves a job that found the customer opted out
        row = session.get(ScheduledJob, job)
        row.status, row.outcome = JobStatus.DONE, "skipped: opted out"
    zh_jobs = mona.get("/staff/care/jobs", params={"lang": "zh", "status": "done"}).text
    assert "跳过：客户已退订" in zh_jobs and "skipped: opted out" not in zh_jobs


def test_an_account_manager_reads_an_alert_and_finishes_the_wechat_task_in_the_browser(browser, staff_server, seeded):
    live, runtime = staff_server
    page = signed_in(browser, live, "aggie", "/staff/care")
    alert = page.locator(".care-item[data-kind='alert']", has_text="2 negative conversations within 30 days")
    expect(alert).to_contain_text("for aggie")
    alert.locator(".mark-read").click()
    expect(page.locator("#said")).to_have_text("Marked read.")
    expect(page.locator(".care-item[data-kind='alert']")).to_have_class("care-item read")
    [item] = [i for i in runtime.care.repository.inbox("aggie") if i.kind == "alert"]
    assert item.read_at is not None

    page.click("text=Tasks")
    task = page.locator(f".task[data-id='{seeded.task_id}']")
    expect(task.locator(".task-detail")).to_contain_text("上次的问题都解决了吧？")  # the message to pass on
    task.locator("input[name=assignee]").fill("mona")
    task.locator(".task-assign").click()
    expect(page.locator("#said")).to_have_text("Task reassigned.")
    assert runtime.care.repository.task(seeded.task_id).assignee == "mona"
    page.locator(f".task[data-id='{seeded.task_id}'] .task-done").click()
    expect(page.locator("#said")).to_have_text("Task done.")
    expect(page.locator(f".task[data-id='{seeded.task_id}']")).to_have_count(0)
    done = runtime.care.repository.task(seeded.task_id)
    assert (done.status, done.done_by) == ("done", "staff:aggie")
    assert audit_lines(runtime, "task.done", "staff:aggie") and audit_lines(runtime, "task.assigned", "staff:aggie")
    page.context.close()


def test_a_manager_cancels_a_scheduled_check_in_in_chinese_and_it_never_runs(browser, staff_server, seeded):
    live, runtime = staff_server
    page = signed_in(browser, live, "mona", "/staff/care/jobs", locale="zh-CN")
    row = page.locator(f"tr.job[data-id='{seeded.complaint_job}']")
    expect(row).to_contain_text("投诉后的再次联系")
    expect(row).to_contain_text("待执行")
    row.locator(".job-cancel").click()
    expect(page.locator("#said")).to_have_text("计划任务已取消。")
    expect(page.locator(f"tr.job[data-id='{seeded.complaint_job}']")).to_have_count(0)  # not active any more
    page.select_option("#status", "cancelled")
    page.click("#job-filter button")
    expect(page.locator(f"tr.job[data-id='{seeded.complaint_job}']")).to_contain_text("已取消")
    assert runtime.care.jobs.get(seeded.complaint_job).status == JobStatus.CANCELLED
    assert audit_lines(runtime, "job.cancel", "staff:mona")
    page.context.close()
