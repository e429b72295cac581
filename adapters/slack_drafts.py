"""Approving drafts from Slack: each new pending draft is posted to SLACK_EDITORS_CHANNEL as a Block Kit message with
the draft in both languages and Approve / Reject buttons; pressing one decides it as the staff app would. A new
entry's Approve opens a form with its answer in each language (the draft's prefilled, the other to write); the
entry is saved with every answer given, and one with a language left empty is listed by the KB editor's
"missing" filter.

Only editors may decide: a Slack user listed in SLACK_EDITOR_IDS (user ids U…/W… or user groups S…), or one whose
Slack e-mail is the name of an enabled staff account holding the editor (or admin) role. Anyone else gets a
private "only editors" notice; every decision and refusal is audited with the actor `slack:<user id>`.
Posting uses slack_sdk's plain WebClient: drafts are proposed on worker threads, not on the event loop.
"""

from __future__ import annotations

import json
import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient

from adapters.slack_staff import StaffAllowlist
from bot.draft_approval import DraftApproval, draft_language
from storage.customers import CustomerRepository
from storage.db import off_loop
from storage.faqs import FaqRepository
from storage.staff import StaffRepository
from storage.staff_drafts import Draft

log = logging.getLogger("warmdesk.slack")

APPROVE, REJECT = "draft_approve", "draft_reject"
ANSWERS_FORM = "draft_entry_answers"  # the modal's callback id
LANGUAGES = (("zh", "中文"), ("en", "English"))
MAX_ANSWER = 3000  # Slack's limit for a plain-text input
EDITOR_ROLES = ("editor", "admin")
TEXTS = {
    "en": {
        "title.question": "New wording for *{faq_id}*",
        "title.entry": "New FAQ entry",
        "customer": "Customers asked",
        "answer": "Answer ({language})",
        "missing": "_not written yet: add it in the staff app_",
        "missing_entry": "_not written yet: add it when you approve_",
        "approve_entry": "Approve…",
        "form_title": "New FAQ entry",
        "form_submit": "Approve",
        "form_cancel": "Cancel",
        "form_hint": "Leave a language empty and the entry is listed under “missing” in the staff app.",
        "form_empty": "Write the answer in at least one language.",
        "one_language": " Only the {language} answer was given; the staff app lists the entry as missing the other.",
        "asked": "Asked {count} time(s) · {source} · draft #{id}",
        "approve": "Approve",
        "reject": "Reject",
        "approved": "Approved by <@{user}>: *{question}* now answers with `{faq_id}`.",
        "rejected": "Rejected by <@{user}>: {question}",
        "not_editor": "Only knowledge editors may approve or reject drafts.",
        "not_pending": "Draft #{id} was already decided ({problem}).",
    },
}


def draft_blocks(draft: Draft, faqs: FaqRepository, language: str = "en") -> list[dict]:
    say = TEXTS["en"]
    entry = faqs.get(draft.faq_id) if draft.kind == "question" and draft.faq_id else None
    if draft.kind == "question":
        zh, en = (entry.answer_for("zh"), entry.answer_for("en")) if entry else ("", "")
        title = say["title.question"].format(faq_id=_escape(draft.faq_id or "?"))
    else:
        zh, en = (draft.answer, "") if draft.language == "zh" else ("", draft.answer)
        title = say["title.entry"]
    missing = say["missing"] if draft.kind == "question" else say["missing_entry"]
    fields = [
        {"type": "mrkdwn", "text": f"*{say['answer'].format(language='中文')}*\n{_escape(zh) or missing}"},
        {"type": "mrkdwn", "text": f"*{say['answer'].format(language='English')}*\n{_escape(en) or missing}"},
    ]
    approve = say["approve"] if draft.kind == "question" else say["approve_entry"]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": title}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{say['customer']}:* {_escape(draft.question)}"}},
        {"type": "section", "fields": fields},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": say["asked"].format(count=draft.count, source=draft.source, id=draft.id)}
            ],
        },
        {
            "type": "actions",
            "block_id": f"draft:{draft.id}",
            "elements": [
                _button(approve, APPROVE, draft.id, "primary"),
                _button(say["reject"], REJECT, draft.id, "danger"),
            ],
        },
    ]


def answers_form(draft: Draft, channel: str, message_ts: str | None) -> dict:
    """The modal a new entry's Approve opens: one answer per language, the draft's own prefilled."""
    say = TEXTS["en"]
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{say['customer']}:* {_escape(draft.question)}"}},
    ]
    for language, name in LANGUAGES:
        element = {"type": "plain_text_input", "action_id": "answer", "multiline": True, "max_length": MAX_ANSWER}
        if draft_language(draft) == language and draft.answer:
            element["initial_value"] = draft.answer[:MAX_ANSWER]
        label = {"type": "plain_text", "text": say["answer"].format(language=name)}
        blocks.append(
            {"type": "input", "block_id": f"answer_{language}", "optional": True, "label": label, "element": element}
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": say["form_hint"]}]})
    return {
        "type": "modal",
        "callback_id": ANSWERS_FORM,
        "private_metadata": json.dumps({"draft": draft.id, "channel": channel, "ts": message_ts}),
        "title": {"type": "plain_text", "text": say["form_title"]},
        "submit": {"type": "plain_text", "text": say["form_submit"]},
        "close": {"type": "plain_text", "text": say["form_cancel"]},
        "blocks": blocks,
    }


class EditorsChannel:
    def __init__(
        self,
        client: WebClient,
        channel: str,
        approval: DraftApproval,
        faqs: FaqRepository,
        staff: StaffRepository,
        audit_log: CustomerRepository,
        editor_ids: str = "",
    ) -> None:
        self._client, self._channel = client, channel
        self._approval, self._faqs, self._staff, self._audit_log = approval, faqs, staff, audit_log
        self._allowlist = StaffAllowlist(editor_ids)

    def notify(self, draft: Draft) -> None:
        """Post a new pending draft (called on worker threads); a Slack failure never loses the draft."""
        try:
            self._client.chat_postMessage(
                channel=self._channel,
                text=f"Draft #{draft.id}: {draft.question}",
                blocks=draft_blocks(draft, self._faqs),
            )
        except Exception as error:  # the draft stays pending in the staff app
            log.warning("could not post draft %d to Slack: %s", draft.id, error.__class__.__name__)

    def register(self, app: AsyncApp) -> None:
        app.action(APPROVE)(self.on_approve)
        app.action(REJECT)(self.on_reject)
        app.view(ANSWERS_FORM)(self.on_answers)

    async def on_approve(self, ack, body, client) -> None:
        await self._decide(ack, body, client, approve=True)

    async def on_reject(self, ack, body, client) -> None:
        await self._decide(ack, body, client, approve=False)

    async def _decide(self, ack, body, client, approve: bool) -> None:
        await ack()
        user = body["user"]["id"]
        actor = f"slack:{user}"
        raw = body["actions"][0].get("value", "")
        draft_id = int(raw) if raw.isdigit() else 0
        channel = (body.get("container") or {}).get("channel_id") or self._channel
        if not await self._is_editor(user, client):
            await off_loop(self._audit_log.audit, actor, "kb.draft_decide_refused", f"faq_draft:{draft_id}", None)
            await client.chat_postEphemeral(channel=channel, user=user, text=TEXTS["en"]["not_editor"])
            return
        draft = await off_loop(self._approval.drafts.get, draft_id)
        ts = (body.get("container") or {}).get("message_ts")
        new_entry = approve and draft is not None and draft.kind != "question" and draft.status == "pending"
        if new_entry and body.get("trigger_id"):  # its answers per language are checked in a form first
            await client.views_open(trigger_id=body["trigger_id"], view=answers_form(draft, channel, ts))
            return
        decide = self._approval.approve if approve else self._approval.reject
        decided = await off_loop(decide, draft_id, actor)
        await self._tell(client, user, channel, ts, draft, decided, approve)

    async def on_answers(self, ack, body, client) -> None:
        """The new-entry form sent: approve with every answer given (at least one)."""
        user, view = body["user"]["id"], body["view"]
        values = view.get("state", {}).get("values", {})
        answers = {
            language: ((values.get(f"answer_{language}") or {}).get("answer") or {}).get("value") or ""
            for language, _ in LANGUAGES
        }
        if not any(answer.strip() for answer in answers.values()):
            await ack(response_action="errors", errors={"answer_zh": TEXTS["en"]["form_empty"]})
            return
        await ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        draft_id, channel, ts = int(meta.get("draft", 0)), meta.get("channel") or self._channel, meta.get("ts")
        actor = f"slack:{user}"
        if not await self._is_editor(user, client):  # checked again: roles may change while the form is open
            await off_loop(self._audit_log.audit, actor, "kb.draft_decide_refused", f"faq_draft:{draft_id}", None)
            await client.chat_postEphemeral(channel=channel, user=user, text=TEXTS["en"]["not_editor"])
            return
        draft = await off_loop(self._approval.drafts.get, draft_id)
        decided = await off_loop(self._approval.approve, draft_id, actor, answers)
        await self._tell(client, user, channel, ts, draft, decided, approve=True, answers=answers)

    async def _tell(self, client, user, channel, ts, draft, decided, approve: bool, answers=None) -> None:
        """Audit the decision and replace the draft's message with it, or tell the editor privately why not."""
        draft_id = draft.id if draft is not None else 0
        if not decided.ok or draft is None:
            text = TEXTS["en"]["not_pending"].format(id=draft_id, problem=decided.problem or "unknown")
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        action = "kb.draft_approve" if approve else "kb.draft_reject"
        actor = f"slack:{user}"
        await off_loop(self._audit_log.audit, actor, action, f"faq_draft:{draft_id}", {"faq": decided.faq_id})
        key = "approved" if approve else "rejected"
        text = TEXTS["en"][key].format(user=user, question=_escape(draft.question), faq_id=decided.faq_id)
        given = [name for language, name in LANGUAGES if (answers or {}).get(language, "").strip()]
        if answers is not None and len(given) == 1:
            text += TEXTS["en"]["one_language"].format(language=given[0])
        if ts:
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    async def _is_editor(self, user: str, client) -> bool:
        if await self._allowlist.allows(user, client):
            return True
        try:
            profile = (await client.users_info(user=user)).get("user", {}).get("profile", {})
        except Exception:  # no users:read scope, or Slack down: only the list counts
            return False
        email = (profile or {}).get("email")
        return bool(email) and await off_loop(self._staff.has_role, email, EDITOR_ROLES)


def _button(label: str, action_id: str, draft_id: int, style: str) -> dict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": str(draft_id),
        "style": style,
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
