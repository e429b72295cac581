"""The Slack desk through slack-bolt: signed requests only, cards and threads through the REAL slack_sdk client
pointed (SLACK_API_BASE_URL) at a local recorder, claim/reply/resolve guarded, staff commands audited."""

from __future__ import annotations

import itertools
import json
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from adapters.slack_desk import slack_router
from bot.handoff.desk import Desks
from bot.handoff.service import HandoffService
from bot.handoff.triggers import Reason, TriggerHit
from bot.outbox import Outbox
from bot.settings import Settings
from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import CustomerRepository
from storage.db import Database
from storage.handoffs import HandoffRepository
from storage.models import AuditLog, Note, OutboxMessage
from storage.nonces import NonceStore
from tests.handoff.slack_api import (
    SIGNING_SECRET,
    SlackApiRecorder,
    action_body,
    command_body,
    signed,
    thread_reply_body,
)

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}
HIT = TriggerHit(Reason.ANGER, {"message": "<!channel> this is ridiculous", "score": 0.9, "threshold": 0.6})
_users = itertools.count()
_events = itertools.count()


@pytest.fixture
def slack_api():
    recorder = SlackApiRecorder(usergroups={"SSTAFF": ["U7"]}).start()
    yield recorder
    recorder.stop()


@pytest.fixture
async def desk(tmp_path, slack_api):
    db = Database(f"sqlite:///{tmp_path / 'crm.db'}")
    db.migrate()
    service = HandoffService(HandoffRepository(db), Outbox(db), desks=Desks())
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        slack_handoff_channel="C1",
        slack_staff_ids="U5,SSTAFF",
        slack_supervisor_group="SSUPER",
        slack_api_base_url=slack_api.base_url,
    )
    router, slack = slack_router(service, CustomerRepository(db), settings, NonceStore(db))
    service.desks.add(slack)
    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as http:
        yield Desk(http, service, db, slack_api)
    db.dispose()


class Desk:
    def __init__(self, http: httpx.AsyncClient, service: HandoffService, db: Database, api: SlackApiRecorder) -> None:
        self.http, self.service, self.db, self.api = http, service, db, api

    async def post(self, body: str, headers: dict[str, str], timestamp: int | None = None) -> httpx.Response:
        return await self.http.post("/slack/events", content=body, headers={**headers, **signed(body, timestamp)})

    async def press(self, action_id: str, value: str, user: str = "U1") -> httpx.Response:
        return await self.post(action_body(action_id, value, user), FORM)

    async def reply_in_thread(self, handoff_id: int, text: str, user: str, ts: str | None = None) -> httpx.Response:
        thread = self.service.repository.thread_for(handoff_id, "slack")
        ts = ts or f"{1800000000 + next(_events)}.000300"
        body = thread_reply_body(text, user, thread.channel, thread.thread_id, ts, f"Ev{next(_events)}")
        return await self.post(body, JSON)

    async def new_handoff(self, name: str = "Ann") -> tuple[int, int]:
        user = f"web-{next(_users)}"
        exchange = ConversationLog(self.db).record_exchange(
            "web", user, user, name, LoggedMessage("in", "<!channel> this is ridiculous", language="en"), []
        )
        handoff_id = self.service.open(exchange.customer_id, exchange.conversation_id, HIT)
        await self.service.announce("handoff", handoff_id, exchange.conversation_id, "")
        return handoff_id, exchange.customer_id

    def outbox(self, customer_id: int) -> list[OutboxMessage]:
        with self.db.session() as session:
            query = select(OutboxMessage).where(OutboxMessage.customer_id == customer_id).order_by(OutboxMessage.id)
            return list(session.exec(query).all())

    def ephemerals(self) -> list[str]:
        return [call["text"] for call in self.api.named("chat.postEphemeral")]


async def test_a_handoff_posts_an_escaped_card_with_claim_and_return_buttons(desk):
    handoff_id, _ = await desk.new_handoff()

    (card,) = desk.api.named("chat.postMessage")
    assert card["channel"] == "C1"
    actions = next(block for block in card["blocks"] if block["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["handoff_claim", "handoff_return", "handoff_help"]
    assert {e["value"] for e in actions["elements"]} == {str(handoff_id)}
    assert "<!channel>" not in json.dumps(card["blocks"]) and "&lt;!channel&gt;" in json.dumps(card["blocks"])
    assert desk.service.repository.thread_for(handoff_id, "slack").thread_id == f"{1700000001}.000100"


async def test_bad_signatures_stale_timestamps_and_replays_are_refused(desk):
    handoff_id, customer_id = await desk.new_handoff()
    body = action_body("handoff_claim", str(handoff_id))

    forged = await desk.http.post("/slack/events", content=body, headers={**FORM, **signed(body, secret="wrong")})
    stale = await desk.post(body, FORM, timestamp=int(time.time()) - 6 * 60)
    unsigned = await desk.http.post("/slack/events", content=body, headers=FORM)
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    assert desk.service.repository.get(handoff_id).status == "requested"

    headers = {**FORM, **signed(body)}
    first = await desk.http.post("/slack/events", content=body, headers=headers)
    replay = await desk.http.post("/slack/events", content=body, headers=headers)
    assert (first.status_code, replay.status_code) == (200, 401)
    assert [row.kind for row in desk.outbox(customer_id)] == ["agent_joined"]  # once


@pytest.mark.parametrize("timestamp", ["abc", "", "1e3"])
async def test_a_timestamp_that_is_not_a_number_is_refused_not_a_server_error(desk, timestamp):
    body = action_body("handoff_claim", "1")
    headers = {**FORM, **signed(body), "x-slack-request-timestamp": timestamp}
    assert (await desk.http.post("/slack/events", content=body, headers=headers)).status_code == 401


@pytest.mark.parametrize(("body", "headers"), [("{bad", JSON), ("[1]", JSON), ("payload=%7Bbad", FORM)])
async def test_unsigned_junk_is_refused_before_it_is_parsed(desk, body, headers):
    assert (await desk.http.post("/slack/events", content=body, headers=headers)).status_code == 401


async def test_claim_updates_the_card_and_a_second_claim_is_told_who_has_it(desk):
    handoff_id, customer_id = await desk.new_handoff()

    assert (await desk.press("handoff_claim", str(handoff_id), user="U1")).status_code == 200
    assert (await desk.press("handoff_claim", str(handoff_id), user="U2")).status_code == 200

    handoff = desk.service.repository.get(handoff_id)
    assert handoff.status == "claimed" and handoff.agent == "slack:U1"
    (update,) = desk.api.named("chat.update")
    assert "Claimed by <@U1>" in json.dumps(update["blocks"])
    assert desk.ephemerals() == [f"Handoff #{handoff_id} is already claimed by <@U1>."]
    assert desk.outbox(customer_id)[0].text == "A person from our team has joined the conversation."


async def test_thread_replies_reach_the_customer_once_and_strangers_are_asked_to_take_over(desk):
    handoff_id, customer_id = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")

    text = "Hi Ann, I'm on it &amp; checking now"
    await desk.reply_in_thread(handoff_id, text, user="U1", ts="1800000001.000200")
    await desk.reply_in_thread(handoff_id, text, user="U1", ts="1800000001.000200")  # Slack retrying the event
    await desk.reply_in_thread(handoff_id, "I can help too", user="U2")

    agent_rows = [row for row in desk.outbox(customer_id) if row.kind == "agent"]
    assert [row.text for row in agent_rows] == ["Hi Ann, I'm on it & checking now"]
    prompt = desk.api.named("chat.postEphemeral")[-1]
    assert prompt["user"] == "U2" and "belongs to <@U1>" in prompt["text"]
    assert "belongs to <@U1>" in prompt["blocks"][0]["text"]["text"]  # a real mention, not "&lt;@U1&gt;"
    take_over = prompt["blocks"][1]["elements"][0]
    assert take_over["action_id"] == "handoff_take_over"

    await desk.press("handoff_take_over", take_over["value"], user="U2")

    assert desk.service.repository.get(handoff_id).agent == "slack:U2"
    assert [row.text for row in desk.outbox(customer_id) if row.kind == "agent"][-1] == "I can help too"


async def test_a_reply_too_long_to_carry_over_is_not_cut_short_on_take_over(desk):
    handoff_id, customer_id = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")
    long_reply = 'Let me explain "everything" \\ step by step. ' * 60 + "THE END"  # 2,647 characters

    await desk.reply_in_thread(handoff_id, long_reply, user="U2")

    prompt = desk.api.named("chat.postEphemeral")[-1]
    take_over = prompt["blocks"][1]["elements"][0]
    assert len(take_over["value"]) <= 2000 and "send it again" in prompt["blocks"][0]["text"]["text"]
    await desk.press("handoff_take_over", take_over["value"], user="U2")
    assert desk.service.repository.get(handoff_id).agent == "slack:U2"
    assert [row.text for row in desk.outbox(customer_id) if row.kind == "agent"] == []  # nothing half-sent

    await desk.reply_in_thread(handoff_id, long_reply, user="U2")
    assert [row.text for row in desk.outbox(customer_id) if row.kind == "agent"] == [long_reply]


async def test_an_agent_reply_over_the_length_limit_is_refused_whole_not_cut(desk):
    handoff_id, customer_id = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")

    await desk.reply_in_thread(handoff_id, "x" * 4001, user="U1")

    assert [row for row in desk.outbox(customer_id) if row.kind == "agent"] == []
    assert desk.ephemerals()[-1] == "Messages to customers are limited to 4000 characters: nothing was sent."


async def test_an_agent_reply_with_no_text_is_not_sent_and_the_agent_is_told(desk):
    handoff_id, customer_id = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")

    await desk.reply_in_thread(handoff_id, "  \n ", user="U1")
    await desk.reply_in_thread(handoff_id, "lone \ud800 surrogate", user="U1")

    assert [row.text for row in desk.outbox(customer_id) if row.kind == "agent"] == ["lone \ufffd surrogate"]
    assert desk.ephemerals()[-1] == "Only text reaches the customer, and this message has none: nothing was sent."


async def test_customer_messages_are_mirrored_escaped_into_the_thread(desk):
    handoff_id, _ = await desk.new_handoff()
    ticket = desk.service.ticket(handoff_id)

    await desk.service.announce("held_for_agent", None, ticket.conversation_id, "are you there? <@U1>")

    mirror = desk.api.named("chat.postMessage")[-1]
    assert mirror["thread_ts"] == desk.service.repository.thread_for(handoff_id, "slack").thread_id
    assert mirror["text"] == "Customer: are you there? &lt;@U1&gt;"


async def test_resolve_asks_for_a_rating_and_late_clicks_get_a_clear_answer(desk):
    handoff_id, customer_id = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")

    await desk.press("handoff_resolve", str(handoff_id), user="U1")
    await desk.press("handoff_claim", str(handoff_id), user="U2")
    await desk.press("handoff_return", str(handoff_id), user="U1")

    handoff = desk.service.repository.get(handoff_id)
    assert (handoff.status, handoff.outcome) == ("resolved", "resolved")
    assert desk.outbox(customer_id)[-1].kind == "rating_request"
    assert desk.ephemerals() == [f"Handoff #{handoff_id} is already closed."] * 2
    assert "actions" not in [b["type"] for b in desk.api.named("chat.update")[-1]["blocks"]]


async def test_slack_retrying_a_reply_after_the_close_is_not_told_it_is_closed(desk):
    handoff_id, customer_id = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")
    await desk.reply_in_thread(handoff_id, "All sorted!", user="U1", ts="1800000002.000100")
    await desk.press("handoff_resolve", str(handoff_id), user="U1")
    told_before = len(desk.ephemerals())

    await desk.reply_in_thread(handoff_id, "All sorted!", user="U1", ts="1800000002.000100")  # Slack's retry

    assert len(desk.ephemerals()) == told_before
    assert [row.text for row in desk.outbox(customer_id) if row.kind == "agent"] == ["All sorted!"]


async def test_a_retried_reply_from_a_stranger_is_prompted_once(desk):
    handoff_id, _ = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")

    for _ in range(2):
        await desk.reply_in_thread(handoff_id, "I can help", user="U2", ts="1800000003.000100")

    assert len([p for p in desk.api.named("chat.postEphemeral") if p["user"] == "U2"]) == 1


async def test_only_the_owner_closes_a_claimed_handoff(desk):
    handoff_id, _ = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")

    await desk.press("handoff_resolve", str(handoff_id), user="U2")

    assert desk.service.repository.get(handoff_id).status == "claimed"
    assert desk.ephemerals()[-1] == "This handoff belongs to <@U1>: only they can close it, or take it over first."


async def test_return_to_bot_on_an_unclaimed_handoff_and_ask_for_help_pings_supervisors(desk):
    handoff_id, customer_id = await desk.new_handoff()

    await desk.press("handoff_help", str(handoff_id), user="U1")
    await desk.press("handoff_return", str(handoff_id), user="U1")

    assert "<!subteam^SSUPER>" in desk.api.named("chat.postMessage")[1]["text"]
    assert desk.service.repository.get(handoff_id).outcome == "returned_to_bot"
    assert desk.outbox(customer_id)[-1].kind == "back_to_bot"  # nobody worked on it: no rating request


@pytest.mark.parametrize(
    ("action_id", "value"),
    [("handoff_explode", "1"), ("handoff_claim", "not-a-number"), ("handoff_claim", "²"), ("handoff_claim", "9" * 30)],
)
async def test_unknown_actions_are_answered_politely(desk, action_id, value):
    response = await desk.press(action_id, value)

    assert response.status_code == 200
    assert desk.ephemerals() == ["Sorry, this button is not known to Warmdesk (any more)."]


async def test_a_reply_to_a_customer_who_deleted_their_data_is_refused_and_not_sent(desk):
    handoff_id, customer_id = await desk.new_handoff()
    await desk.press("handoff_claim", str(handoff_id), user="U1")
    CustomerRepository(desk.db).forget(customer_id, "customer")

    response = await desk.reply_in_thread(handoff_id, "hello?", user="U1")

    assert response.status_code == 200
    assert desk.ephemerals()[-1] == f"The customer of handoff #{handoff_id} deleted their data; nothing was sent."
    assert desk.outbox(customer_id) == []


async def test_customer_lookup_is_for_staff_only_and_every_lookup_is_audited(desk):
    await desk.new_handoff(name="Ann Lee")

    refused = await desk.post(command_body("/customer", "Ann", "U9"), FORM)
    by_id = await desk.post(command_body("/customer", "Ann", "U5"), FORM)
    by_group = await desk.post(command_body("/customer", "Ann", "U7"), FORM)
    noted = await desk.post(command_body("/note", '"Ann Lee" prefers email', "U5"), FORM)

    assert "limited to the support team" in refused.text
    card = json.dumps(by_id.json()["blocks"])
    assert "Ann Lee" in card and "web:web-" in card and "Open handoffs:* #" in card and "Risk flags" in card
    assert by_group.json()["blocks"] == by_id.json()["blocks"]
    assert noted.text == "Note added to Ann Lee."
    with desk.db.session() as session:
        actions = [row.action for row in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]
        notes = session.exec(select(Note)).all()
    assert actions == ["customer.lookup_refused", "customer.lookup", "customer.lookup", "customer.note"]
    assert [(n.author, n.text) for n in notes] == [("slack:U5", "prefers email")]
    again = await desk.post(command_body("/customer", "Ann Lee", "U5"), FORM)
    assert "prefers email — <@U5>" in json.dumps(
        again.json()["blocks"], ensure_ascii=False
    )  # the note's author as a real mention


async def test_a_request_replayed_to_another_server_process_is_refused_too(desk):
    handoff_id, _customer = await desk.new_handoff()
    body = action_body("handoff_claim", str(handoff_id))
    headers = {**FORM, **signed(body)}
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET, slack_handoff_channel="C1")
    other_router, _ = slack_router(desk.service, CustomerRepository(desk.db), settings, NonceStore(desk.db))
    other_process = FastAPI()
    other_process.include_router(other_router)

    first = await desk.http.post("/slack/events", content=body, headers=headers)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other_process), base_url="http://desk") as http:
        replay = await http.post("/slack/events", content=body, headers=headers)
    assert (first.status_code, replay.status_code) == (200, 401)
    assert replay.json() == {"error": "replayed request"}


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ('{"type": "event_callback", "event": ', JSON),
        ("[1, 2, 3]", JSON),
        ("payload=%7Bnot+json", FORM),
        ("payload=%5B1%5D", FORM),
    ],
)
async def test_a_signed_but_malformed_body_is_a_400_not_a_500(desk, body, headers):
    response = await desk.post(body, headers)
    assert response.status_code == 400 and response.json() == {"error": "malformed body"}
