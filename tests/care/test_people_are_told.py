"""Account managers are told, the first-response SLA escalates, care notes come first next time — on real
databases, with Slack's Web API played by a local recorder."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import delete

from adapters.care_api import care_router
from adapters.care_slack import SlackNotifier, attach_slack_care, care_note_reply
from adapters.slack_copies import SlackCopies
from adapters.staff.auth import StaffAuth
from bot.business import load_business_file
from bot.care.alerts import NOTIFY, Posted
from bot.care.notes import CareNoteError
from bot.care.sla import add_business_minutes
from bot.care.wiring import open_care
from bot.emotion_watch import WatchOutcome
from bot.handoff.desk import Desks
from bot.handoff.hours import parse_business_hours
from bot.handoff.service import HandoffService
from bot.handoff.triggers import Reason, TriggerHit
from bot.outbox import Outbox
from bot.privacy.copies import CopiesRemoved, remove_copies
from bot.settings import Settings
from bot.texts import DEFAULT_TEXTS
from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import CustomerRepository
from storage.handoffs import HandoffRepository
from storage.models import EmotionAlert, JobStatus, StaffNoticeCopy
from storage.privacy import PrivacyStore
from storage.staff import StaffRepository
from tests.care.helpers import Clock
from tests.handoff.slack_api import SlackApiRecorder

_users = itertools.count(5000)
TOKEN = "agent-secret"


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str | None, str, str]] = []

    async def notify(self, recipient, text, channel="care") -> Posted:
        self.sent.append((recipient, text, channel))
        return Posted("recorded")


@pytest.fixture
def setup(database):
    clock = Clock()
    outbox = Outbox(database, clock=clock)
    settings = Settings(sla_first_response_minutes=15)
    care = open_care(settings, load_business_file(), database, outbox, DEFAULT_TEXTS, clock=clock)
    care.alerts.notifier = RecordingNotifier()
    service = HandoffService(HandoffRepository(database), outbox, desks=Desks([care.desk]), clock=clock)
    service.summary_preface = care.notes.preface
    return care, service, clock, database


def customer(database, manager: str | None = None) -> tuple[int, int]:
    user = f"web-{next(_users)}"
    exchange = ConversationLog(database).record_exchange(
        "web", user, user, "王芳", LoggedMessage("in", "太慢了", language="zh", emotion_label="anger"), []
    )
    return exchange.customer_id, exchange.conversation_id


async def run_jobs(care, clock, **delta) -> None:
    clock.advance(**delta)
    await care.scheduler.run_all_due()


async def test_an_emotion_alert_reaches_the_account_manager_in_the_inbox_and_slack_once(setup):
    care, _, clock, database = setup
    customer_id, conversation_id = customer(database)
    care.repository.set_account_manager(customer_id, "slack:U777")
    alert = EmotionAlert(id=41, customer_id=customer_id, reason="two negative conversations in 30 days")
    outcome = WatchOutcome(became_at_risk=True, alert=alert)
    care.alerts.after_watch(customer_id, conversation_id, outcome)
    care.alerts.after_watch(customer_id, conversation_id, outcome)  # the same findings again: told once

    inbox = care.repository.inbox("slack:U777")
    assert sorted(item.kind for item in inbox) == ["alert", "at_risk"]
    await run_jobs(care, clock, seconds=1)
    sent = care.alerts.notifier.sent
    assert len(sent) == 2 and {recipient for recipient, _, _ in sent} == {"slack:U777"}
    assert any("two negative conversations" in text for _, text, _ in sent)


async def test_a_customer_without_an_account_manager_goes_to_the_care_team(setup):
    care, _, _clock, database = setup
    customer_id, conversation_id = customer(database)
    care.alerts.after_watch(customer_id, conversation_id, WatchOutcome(became_at_risk=True))
    assert [item.recipient for item in care.repository.inbox()] == ["care-team"]


async def test_churn_warnings_go_only_to_managed_customers_managers(setup):
    care, _, _, database = setup
    managed, _ = customer(database)
    unmanaged, _ = customer(database)
    care.repository.set_account_manager(managed, "ann")
    care.alerts.churn_risk([managed, unmanaged], 90)
    [item] = care.repository.inbox()
    assert (item.recipient, item.customer_id, item.kind) == ("ann", managed, "churn") and "90" in item.text


async def test_an_unanswered_handoff_breaches_the_sla_and_escalates_to_the_sla_channel(setup):
    care, service, clock, database = setup
    customer_id, conversation_id = customer(database)
    handoff_id = service.open(customer_id, conversation_id, TriggerHit(Reason.ANGER, {}))
    await service.announce("handoff", handoff_id, conversation_id, "太慢了")

    await run_jobs(care, clock, minutes=14)
    assert care.sla.repository.get(handoff_id).breached_at is None
    await run_jobs(care, clock, minutes=1)
    await run_jobs(care, clock, seconds=1)
    assert care.sla.repository.get(handoff_id).breached_at is not None
    [(recipient, text, channel)] = care.alerts.notifier.sent
    assert (recipient, channel) == (None, "sla") and f"#{handoff_id}" in text
    figures = care.sla.repository.figures(clock.now - timedelta(days=1))
    assert (figures.handoffs, figures.breached, figures.answered) == (1, 1, 0)


async def test_a_first_reply_in_time_meets_the_sla_and_is_measured(setup):
    care, service, clock, database = setup
    customer_id, conversation_id = customer(database)
    handoff_id = service.open(customer_id, conversation_id, TriggerHit(Reason.ANGER, {}))
    await service.announce("handoff", handoff_id, conversation_id, "太慢了")
    clock.advance(minutes=5)
    await service.claim(handoff_id, "console:ann", "console")
    assert care.sla.repository.get(handoff_id).first_response_at is None  # a claim is not an answer
    clock.advance(minutes=1)
    await service.reply(handoff_id, "console:ann", "您好，我来看一下", "console", "k1")
    clock.advance(minutes=1)
    await service.reply(handoff_id, "console:ann", "已经处理好了", "console", "k2")
    await run_jobs(care, clock, minutes=20)

    row = care.sla.repository.get(handoff_id)
    assert row.first_response_seconds == 360 and row.breached_at is None
    assert care.jobs.by_key(f"sla:{handoff_id}").outcome == "met"
    assert care.alerts.notifier.sent == []


def test_the_sla_clock_only_runs_in_business_hours():
    hours = parse_business_hours("Mon-Fri 09:00-18:00", "Asia/Shanghai")
    friday_evening = datetime(2026, 3, 6, 9, 55, tzinfo=UTC)  # 17:55 in Shanghai
    due = add_business_minutes(friday_evening, 15, hours)
    assert due == datetime(2026, 3, 9, 1, 10, tzinfo=UTC)  # Monday 09:10 in Shanghai


async def test_a_care_note_after_solving_comes_first_in_the_next_handoffs_summary(setup):
    care, service, clock, database = setup
    customer_id, conversation_id = customer(database)
    first = service.open(customer_id, conversation_id, TriggerHit(Reason.ANGER, {}))
    with pytest.raises(CareNoteError, match="not resolved"):
        care.notes.add(first, "console:ann", "too early")
    await service.claim(first, "console:ann", "console")
    await service.resolve(first, "console:ann", "console")
    care.notes.add(first, "console:ann", "Her mother was in hospital; ask how she is.")

    clock.advance(days=20)
    second = service.open(customer_id, conversation_id, TriggerHit(Reason.ANGER, {}))
    summary = service.repository.get(second).summary.splitlines()
    assert "Her mother was in hospital; ask how she is." in summary[1] and "console:ann" in summary[1]
    view = CustomerRepository(database).view(customer_id)
    assert [n.text for n in view.care_notes] == ["Her mother was in hospital; ask how she is."]


@pytest.fixture
def slack():
    recorder = SlackApiRecorder().start()
    yield recorder
    recorder.stop()


async def test_slack_notices_are_dms_for_slack_managers_and_channel_posts_otherwise(slack):
    notifier = SlackNotifier(AsyncWebClient(token="xoxb-test", base_url=slack.base_url), "CCARE", "CSLA")
    await notifier.notify("slack:U777", "Customer #3 needs attention")
    await notifier.notify("ann", "New task #4 for you")
    await notifier.notify(None, "SLA breached: handoff #9", channel="sla")
    posts = [(p["channel"], p["text"]) for p in slack.named("chat.postMessage")]
    assert posts == [("U777", "Customer #3 needs attention"), ("CCARE", "ann: New task #4 for you"),
                     ("CSLA", "SLA breached: handoff #9")]  # fmt: skip


async def test_a_slack_outage_is_retried_by_the_notify_job(setup, slack):
    care, _, clock, database = setup
    original = slack.respond
    slack.respond = lambda method, params: {"ok": False, "error": "fatal_error"}
    care.alerts.notifier = SlackNotifier(AsyncWebClient(token="xoxb-test", base_url=slack.base_url), "CCARE", "CSLA")
    customer_id, conversation_id = customer(database)
    care.alerts.after_watch(customer_id, conversation_id, WatchOutcome(became_at_risk=True))
    await run_jobs(care, clock, seconds=1)
    [job] = care.jobs.listing(kind=NOTIFY)
    assert job.status == JobStatus.PENDING and "fatal_error" in job.last_error
    slack.respond = original
    await run_jobs(care, clock, minutes=1)
    assert care.jobs.get(job.id).status == JobStatus.DONE
    assert slack.named("chat.postMessage")[-1]["channel"] == "CCARE"


async def test_the_slack_notices_about_a_deleted_customer_are_deleted_from_slack_and_others_stay(setup, slack):
    care, _, clock, database = setup
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    care.alerts.notifier = SlackNotifier(client, "CCARE", "CSLA")
    leaving, conversation_id = customer(database)
    care.repository.set_account_manager(leaving, "slack:U777")
    care.alerts.after_watch(leaving, conversation_id, WatchOutcome(became_at_risk=True))  # a DM to U777
    care.alerts.notify(None, "SLA breached: handoff #9", "sla:9", channel="sla", customer_id=leaving)
    staying, other_conversation = customer(database)
    care.alerts.after_watch(staying, other_conversation, WatchOutcome(became_at_risk=True))  # a CCARE post
    await run_jobs(care, clock, seconds=1)
    posted = {p["channel"]: p["text"] for p in slack.named("chat.postMessage")}
    assert set(posted) == {"U777", "CSLA", "CCARE"} and len(slack.messages) == 3

    found = PrivacyStore(database).desk_copies(leaving)
    assert sorted(channel for channel, _ in found.messages["slack"]) == ["CSLA", "U777"]
    assert found.unaddressed == 0
    removed = remove_copies({"slack": SlackCopies(client)}, found.threads, found.messages)
    assert removed == CopiesRemoved(removed=2, kept=0)
    left = [m["text"].strip() for m in slack.messages.values()]
    assert left == [posted["CCARE"]]  # the other customer's notice stays
    assert {(d["channel"], d["ts"]) for d in slack.named("chat.delete")} == set(found.messages["slack"])
    assert CustomerRepository(database).forget(leaving, "test")
    assert PrivacyStore(database).desk_copies(leaving).messages == {}  # the addresses went with the customer
    assert len(PrivacyStore(database).desk_copies(staying).messages["slack"]) == 1


async def test_a_notice_posted_before_addresses_were_kept_is_counted_as_kept(setup, slack):
    care, _, clock, database = setup
    care.alerts.notifier = SlackNotifier(AsyncWebClient(token="xoxb-test", base_url=slack.base_url), "CCARE", "CSLA")
    customer_id, conversation_id = customer(database)
    care.alerts.after_watch(customer_id, conversation_id, WatchOutcome(became_at_risk=True))
    await run_jobs(care, clock, seconds=1)
    with database.session() as session:  # as a notice sent by an older version left it: no address stored
        session.exec(delete(StaffNoticeCopy).where(StaffNoticeCopy.customer_id == customer_id))
    found = PrivacyStore(database).desk_copies(customer_id)
    assert (found.messages, found.unaddressed) == ({}, 1)


async def test_the_care_note_endpoint_checks_sign_in_state_and_input(setup):
    care, service, _, database = setup
    app = FastAPI()
    staff = StaffAuth(StaffRepository(database), CustomerRepository(database), Settings(agent_token=TOKEN))
    app.include_router(care_router(care, CustomerRepository(database), staff))
    customer_id, conversation_id = customer(database)
    handoff_id = service.open(customer_id, conversation_id, TriggerHit(Reason.COMPLAINT, {}))
    headers = {"authorization": f"Bearer {TOKEN}", "x-agent-name": "ann"}
    url = f"/agent/api/handoffs/{handoff_id}/care-note"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://care") as client:
        assert (await client.post(url, json={"text": "x"})).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert (await client.post(url, json={"text": "x"}, headers=wrong)).status_code == 401
        assert (await client.post(url, json={"text": "too early"}, headers=headers)).status_code == 409
        await service.claim(handoff_id, "console:ann", "console")
        await service.resolve(handoff_id, "console:ann", "console")
        assert (await client.post(url, json={"text": ""}, headers=headers)).status_code == 422
        assert (await client.post(url, json={"note": "x"}, headers=headers)).status_code == 422
        assert (await client.post(url, content=b"{broken", headers=headers)).status_code == 422
        missing = "/agent/api/handoffs/99999/care-note"
        assert (await client.post(missing, json={"text": "x"}, headers=headers)).status_code == 404
        made = await client.post(url, json={"text": "Prefers calls after 6 pm"}, headers=headers)
        assert made.status_code == 201 and made.json()["customer_id"] == customer_id
        shown = await client.get(f"/agent/api/customers/{customer_id}/care", headers=headers)
        assert shown.json()["care_note"]["text"] == "Prefers calls after 6 pm"
        assert shown.json()["care_note"]["author"] == "console:ann"


async def test_slack_asks_for_a_care_note_after_solving_and_a_note_reply_in_the_thread_is_saved(setup, slack):
    care, service, _, database = setup
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    attach_slack_care(care, client, Settings(slack_handoff_channel="CDESK"), service.repository)
    customer_id, conversation_id = customer(database)
    handoff_id = service.open(customer_id, conversation_id, TriggerHit(Reason.ANGER, {}))
    service.repository.save_thread(handoff_id, "slack", "CDESK", "1700000000.000100")
    take = care_note_reply(care, "en")
    assert await take(handoff_id, "slack:U1", "note: too early") is None  # open: an ordinary reply

    await service.claim(handoff_id, "slack:U1", "slack")
    await service.resolve(handoff_id, "slack:U1", "slack")
    prompt = slack.wait_for("chat.postMessage", lambda p: p.get("thread_ts") == "1700000000.000100")
    assert "care note" in prompt["text"]
    assert await take(handoff_id, "slack:U1", "thanks all") is None
    assert "saved" in await take(handoff_id, "slack:U1", "备注：生日是 5 月 3 日")
    assert care.repository.latest_care_note(customer_id).text == "生日是 5 月 3 日"
