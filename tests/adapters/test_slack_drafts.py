"""Approving drafts from Slack with real slack-bolt (signed requests) and the real slack_sdk clients pointed at a
local recorder of the Slack Web API: only editors decide, everyone else is refused, everything is audited."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from slack_sdk import WebClient
from sqlmodel import select

from adapters.slack_desk import slack_router
from adapters.slack_drafts import ANSWERS_FORM, APPROVE, REJECT, EditorsChannel
from bot.draft_approval import DraftApproval
from bot.handoff.desk import Desks
from bot.handoff.service import HandoffService
from bot.outbox import Outbox
from bot.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.embedder import shared_embedder
from knowledge.entry import FaqEntry
from storage.customers import CustomerRepository
from storage.db import Database
from storage.faqs import FaqRepository
from storage.handoffs import HandoffRepository
from storage.models import AuditLog
from storage.nonces import NonceStore
from storage.staff import StaffRepository
from storage.staff_drafts import DraftRepository
from storage.staff_kb import KbListing
from tests.handoff.slack_api import SIGNING_SECRET, SlackApiRecorder, action_body, signed

FORM = {"content-type": "application/x-www-form-urlencoded"}
GIFT = FaqEntry(
    "gift_card", ["Do you sell gift cards?"], None, "有，礼品卡在结账页购买。", "Yes, buy them at checkout."
)


EMAILS = {"U42": "edna@example.com", "U43": "aggie@example.com"}


class SlackWithProfiles(SlackApiRecorder):
    """Also answers users.info with an e-mail, as Slack does for an app with users:read.email."""

    def respond(self, method: str, params: dict) -> dict:
        if method == "users.info":
            return {
                "ok": True,
                "user": {"id": params.get("user"), "profile": {"email": EMAILS.get(params["user"])}},
            }
        return super().respond(method, params)


@pytest.fixture
async def slack(tmp_path):
    api = SlackWithProfiles(usergroups={"SEDIT": ["U7"]}).start()
    db = Database(f"sqlite:///{tmp_path / 'crm.db'}")
    db.migrate()
    faqs = FaqRepository(db)
    faqs.save(GIFT, "test")
    knowledge = KnowledgeBase.in_memory([GIFT], shared_embedder())
    staff = StaffRepository(db)
    staff.add("edna@example.com", ["editor"], "a long enough password")
    staff.add("aggie@example.com", ["agent"], "a long enough password")
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        slack_handoff_channel="C1",
        slack_api_base_url=api.base_url,
    )
    service = HandoffService(HandoffRepository(db), Outbox(db), desks=Desks())
    router, desk = slack_router(service, CustomerRepository(db), settings, NonceStore(db))
    approval = DraftApproval(DraftRepository(db), faqs, knowledge)
    client = WebClient(token="xoxb-test", base_url=api.base_url)
    editors = EditorsChannel(client, "CEDIT", approval, faqs, staff, CustomerRepository(db), "U5,SEDIT")
    editors.register(desk.bolt)
    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as http:
        yield Slack(http, api, db, editors, approval, faqs, knowledge)
    db.dispose()
    api.stop()


class Slack:
    def __init__(self, http, api, db, editors, approval, faqs, knowledge) -> None:
        self.http, self.api, self.db, self.editors = http, api, db, editors
        self.approval, self.faqs, self.knowledge = approval, faqs, knowledge

    async def press(self, action_id: str, draft_id: int, user: str, secret: str = SIGNING_SECRET) -> httpx.Response:
        body = action_body(action_id, str(draft_id), user, channel="CEDIT")
        return await self.http.post("/slack/events", content=body, headers={**FORM, **signed(body, secret=secret)})

    async def submit(self, draft_id: int, user: str, zh: str | None, en: str | None) -> httpx.Response:
        """The new-entry form sent back, as Slack posts a view_submission (the message it came from: CEDIT 1.0)."""
        values = {
            f"answer_{lang}": {"answer": {"type": "plain_text_input", "value": v}}
            for lang, v in (("zh", zh), ("en", en))
        }
        payload = {
            "type": "view_submission",
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "team": {"id": "T1", "domain": "test"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": "trigger",
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": ANSWERS_FORM,
                "private_metadata": json.dumps({"draft": draft_id, "channel": "CEDIT", "ts": "1.0"}),
                "state": {"values": values},
            },
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.http.post("/slack/events", content=body, headers={**FORM, **signed(body)})

    def new_entry(self, question: str = "Can I pay with a gift card online?"):
        draft = self.approval.drafts.propose(question, "Yes, enter the code at checkout.", "en", "handoff:7")
        self.editors.notify(draft)
        return draft

    def wording(self, text: str = "present card for my nephew"):
        draft = self.approval.drafts.propose_question(text, "gift_card", "en", "clarify:1")
        self.editors.notify(draft)
        return draft

    def audit(self) -> list[tuple[str, str]]:
        with self.db.session() as session:
            return [(a.actor, a.action) for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]

    def status(self, draft_id: int) -> str:
        return self.approval.drafts.get(draft_id).status


async def test_a_new_draft_is_posted_to_the_editors_channel_in_both_languages_with_buttons(slack):
    draft = slack.wording()
    (posted,) = slack.api.named("chat.postMessage")
    assert posted["channel"] == "CEDIT"
    blocks = posted["blocks"] if isinstance(posted["blocks"], list) else json.loads(posted["blocks"])
    text = json.dumps(blocks, ensure_ascii=False)
    assert (
        "present card for my nephew" in text
        and "有，礼品卡在结账页购买。" in text
        and "Yes, buy them at checkout." in text
    )
    actions = next(block for block in blocks if block["type"] == "actions")
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (APPROVE, str(draft.id)),
        (REJECT, str(draft.id)),
    ]


@pytest.mark.parametrize("editor", ["U5", "U7", "U42"])  # listed, in a listed group, a staff editor's e-mail
async def test_an_editor_approves_in_slack_and_the_bot_answers_the_wording_at_once(slack, editor):
    draft = slack.wording()
    response = await slack.press(APPROVE, draft.id, editor)
    assert response.status_code == 200
    assert slack.status(draft.id) == "approved"
    assert "present card for my nephew" in slack.faqs.get("gift_card").questions
    assert slack.knowledge.search("present card for my nephew").faq_id == "gift_card"
    updated = slack.api.wait_for("chat.update")
    assert f"Approved by <@{editor}>" in updated["text"]
    assert (f"slack:{editor}", "kb.draft_approve") in slack.audit()


@pytest.mark.parametrize("user", ["U9", "U43"])  # nobody's, and a staff account without the editor role
async def test_anyone_else_is_refused_privately_and_the_refusal_is_audited(slack, user):
    draft = slack.wording()
    assert (await slack.press(APPROVE, draft.id, user)).status_code == 200
    assert (await slack.press(REJECT, draft.id, user)).status_code == 200
    assert slack.status(draft.id) == "pending"
    assert "present card for my nephew" not in slack.faqs.get("gift_card").questions
    notices = [call["text"] for call in slack.api.named("chat.postEphemeral")]
    assert notices == ["Only knowledge editors may approve or reject drafts."] * 2
    assert slack.audit().count((f"slack:{user}", "kb.draft_decide_refused")) == 2


async def test_a_badly_signed_press_is_refused_and_decides_nothing(slack):
    draft = slack.wording()
    forged = await slack.press(APPROVE, draft.id, "U5", secret="not-the-secret")
    assert forged.status_code == 401 and slack.status(draft.id) == "pending"
    assert (await slack.press(REJECT, draft.id, "U5")).status_code == 200
    assert slack.status(draft.id) == "rejected"
    assert (await slack.press(APPROVE, draft.id, "U5")).status_code == 200  # decided already: told, not changed
    assert slack.status(draft.id) == "rejected"
    assert any("already decided" in call["text"] for call in slack.api.named("chat.postEphemeral"))


def blocks_of(call: dict) -> list[dict]:
    return call["blocks"] if isinstance(call["blocks"], list) else json.loads(call["blocks"])


async def test_a_new_entrys_approve_opens_a_form_with_both_languages_the_drafts_answer_prefilled(slack):
    draft = slack.new_entry()
    shown = json.dumps(blocks_of(slack.api.named("chat.postMessage")[-1]), ensure_ascii=False)
    assert "Yes, enter the code at checkout." in shown and "add it when you approve" in shown and "Approve…" in shown
    assert (await slack.press(APPROVE, draft.id, "U5")).status_code == 200
    (opened,) = slack.api.named("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["answer_en"].get("initial_value") == "Yes, enter the code at checkout."
    assert "initial_value" not in inputs["answer_zh"]  # the Chinese answer is for the editor to write
    assert slack.status(draft.id) == "pending"  # nothing decided until the form is sent


async def test_the_saved_entry_carries_both_answers_and_the_bot_answers_in_each_language(slack):
    draft = slack.new_entry()
    response = await slack.submit(draft.id, "U42", "可以，结账时输入礼品卡号。", "Yes, enter the code at checkout.")
    assert response.status_code == 200
    decided = slack.approval.drafts.get(draft.id)
    assert decided.status == "approved"
    entry = slack.faqs.get(decided.faq_id)
    assert (entry.answer_zh, entry.answer_en) == ("可以，结账时输入礼品卡号。", "Yes, enter the code at checkout.")
    assert slack.knowledge.search("Can I pay with a gift card online?").faq_id == entry.id
    listing = KbListing(slack.db, slack.faqs)
    assert entry.id not in {row.id for row in listing.page(missing="zh").rows + listing.page(missing="en").rows}
    updated = slack.api.wait_for("chat.update")
    assert "Approved by <@U42>" in updated["text"] and "missing" not in updated["text"]
    assert ("slack:U42", "kb.draft_approve") in slack.audit()


async def test_an_entry_approved_with_one_language_is_flagged_by_the_editors_coverage_filter(slack):
    draft = slack.new_entry("Do gift cards expire?")
    assert (await slack.submit(draft.id, "U5", "", "No, they never expire.")).status_code == 200
    entry = slack.faqs.get(slack.approval.drafts.get(draft.id).faq_id)
    assert (entry.answer_zh, entry.answer_en) == (None, "No, they never expire.")
    listing = KbListing(slack.db, slack.faqs)
    assert entry.id in {row.id for row in listing.page(missing="zh").rows}
    assert entry.id not in {row.id for row in listing.page(missing="en").rows}
    assert "Only the English answer was given" in slack.api.wait_for("chat.update")["text"]


async def test_a_form_with_no_answer_is_sent_back_and_a_non_editors_form_is_refused(slack):
    draft = slack.new_entry("Can I return a gift card?")
    empty = await slack.submit(draft.id, "U5", "  ", "")
    assert empty.status_code == 200 and empty.json()["response_action"] == "errors"
    assert "at least one language" in empty.json()["errors"]["answer_zh"]
    assert (await slack.submit(draft.id, "U9", "不可以。", "No.")).status_code == 200
    assert slack.status(draft.id) == "pending"
    assert ("slack:U9", "kb.draft_decide_refused") in slack.audit()
