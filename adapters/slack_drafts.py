"""Approving drafts from Slack: each new pending draft is posted to SLACK_EDITORS_CHANNEL as a Block Kit message with
the draft in both languages and Approve / Reject buttons; pressing one decides it as the staff app would.

Only editors may decide: a Slack user listed in SLACK_EDITOR_IDS (user ids U…/W… or user groups S…), or one whose
Slack e-mail is the name of an enabled staff account holding the editor (or admin) role. Anyone else gets a
private "only editors" notice; every decision and refusal is audited with the actor `slack:<user id>`.
Posting uses slack_sdk's plain WebClient: drafts are proposed on worker threads, not on the event loop.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient

from adapters.slack_staff import StaffAllowlist
from bot.draft_approval import DraftApproval
from storage.customers import CustomerRepository
from storage.db import off_loop
from storage.faqs import FaqRepository
from storage.staff import StaffRepository
from storage.staff_drafts import Draft

log = logging.getLogger("warmdesk.slack")

APPROVE, REJECT = "draft_approve", "draft_reject"
EDITOR_ROLES = ("editor", "admin")
TEXTS = {
    "en": {
        "title.question": "New wording for *{faq_id}*",
        "title.entry": "New FAQ entry",
        "customer": "Customers asked",
        "answer": "Answer ({language})",
        "missing": "_not written yet: add it in the staff app_",
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
    fields = [
        {"type": "mrkdwn", "text": f"*{say['answer'].format(language='中文')}*\n{_escape(zh) or say['missing']}"},
        {"type": "mrkdwn", "text": f"*{say['answer'].format(language='English')}*\n{_escape(en) or say['missing']}"},
    ]
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
                _button(say["approve"], APPROVE, draft.id, "primary"),
                _button(say["reject"], REJECT, draft.id, "danger"),
            ],
        },
    ]


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
        decide = self._approval.approve if approve else self._approval.reject
        decided = await off_loop(decide, draft_id, actor)
        if not decided.ok or draft is None:
            text = TEXTS["en"]["not_pending"].format(id=draft_id, problem=decided.problem or "unknown")
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        action = "kb.draft_approve" if approve else "kb.draft_reject"
        await off_loop(self._audit_log.audit, actor, action, f"faq_draft:{draft_id}", {"faq": decided.faq_id})
        key = "approved" if approve else "rejected"
        text = TEXTS["en"][key].format(user=user, question=_escape(draft.question), faq_id=decided.faq_id)
        ts = (body.get("container") or {}).get("message_ts")
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
