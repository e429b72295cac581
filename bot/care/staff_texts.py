"""What relationship care tells staff (Slack, the staff inbox, tasks), in English and Chinese.

Slack gets the agent-side language when the notice is sent. The inbox and tasks also keep the text key and its
values (`staff_message`), so each staff page shows them in the page's own language (`shown`)."""

from __future__ import annotations

from typing import Any

from bot.emotion.profile import alert_reason_parts

STAFF_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "alert": "Customer #{customer} ({name}) needs attention: {reason}.",
        "at_risk": "Customer #{customer} ({name}) is having a hard time in conversation #{conversation} "
        "(several negative messages in a row).",
        "churn": "流失预警: customer #{customer} ({name}) has not ordered or written for {days} days.",
        "task": "New task #{task} for you, due {due}: {title} (customer #{customer}).",
        "sla_breach": "SLA breached: handoff #{handoff} (customer #{customer}, {reason}) has waited {minutes} "
        "business minutes without a first response (target {target} min).",
        "care_note_prompt": "Solved. Add a personal care note for the customer's next contact? Reply in this "
        "thread with `note: ...` (optional).",
        "care_note_saved": "Care note saved; it will be shown first at the customer's next contact.",
        "care_note_label": "Care note",
        "reason.negative_conversations": "{count} negative conversations within {days} days",
        "task_title.followup.checkin": "Check in with the customer (康复期跟进)",
        "task_title.followup.complaint": "Second contact after a resolved complaint (72 h)",
        "task_title.followup.csat": "Ask for the rating the customer did not give",
        "task_title.other": "Follow up with the customer",
        "task_why.window_closed": "the WeChat 48-hour / 5-message window is closed",
        "task_why.delivery_failed": "delivery failed: {error}",
        "task_detail": "{why}. Contact the customer on another way and say, in your own words:\n{text}",
    },
    "zh": {
        "alert": "客户 #{customer}（{name}）需要关注：{reason}。",
        "at_risk": "客户 #{customer}（{name}）在会话 #{conversation} 中情绪持续负面（连续多条负面消息）。",
        "churn": "流失预警：客户 #{customer}（{name}）已有 {days} 天没有下单或联系。",
        "task": "您有新任务 #{task}，截止 {due}：{title}（客户 #{customer}）。",
        "sla_breach": "SLA 超时：转人工 #{handoff}（客户 #{customer}，{reason}）已等待 {minutes} 个工作分钟"
        "仍无人首次回复（目标 {target} 分钟）。",
        "care_note_prompt": "已解决。要为客户下次联系留一条关怀备注吗？在此话题中回复 `note: ...`（可选）。",
        "care_note_saved": "关怀备注已保存，客户下次联系时会首先显示。",
        "care_note_label": "关怀备注",
        "reason.negative_conversations": "{days} 天内有 {count} 次负面会话",
        "task_title.followup.checkin": "回访客户（康复期跟进）",
        "task_title.followup.complaint": "投诉解决后的二次联系（72 小时内）",
        "task_title.followup.csat": "请客户补上未给的评分",
        "task_title.other": "跟进客户",
        "task_why.window_closed": "微信 48 小时 / 5 条消息的窗口已关闭",
        "task_why.delivery_failed": "发送失败：{error}",
        "task_detail": "{why}。请通过其他方式联系客户，用您自己的话转达：\n{text}",
    },
}


def staff_say(key: str, language: str, **values: object) -> str:
    return STAFF_TEXTS.get(language, STAFF_TEXTS["en"])[key].format(**_localised(values, language))


def staff_message(key: str, **values: object) -> dict[str, Any]:
    """What is stored next to a rendered text so a page can render it again in another language."""
    return {"key": key, "values": values}


def shown(message: dict[str, Any] | None, language: str, fallback: str) -> str:
    """`message` in `language`; the stored text when there is none (rows from before keys were kept)."""
    if not message or message.get("key") not in STAFF_TEXTS["en"]:
        return fallback
    try:
        return staff_say(message["key"], language, **(message.get("values") or {}))
    except (KeyError, IndexError, ValueError):
        return fallback


def task_title(kind: str, language: str, fallback: str | None = None) -> str:
    texts = STAFF_TEXTS.get(language, STAFF_TEXTS["en"])
    return texts.get(f"task_title.{kind}") or fallback or texts["task_title.other"]


def reason_text(reason: str, language: str) -> str:
    """An emotion alert's stored reason in `language` (a reason this code did not write is shown as it is)."""
    parts = alert_reason_parts(reason)
    if parts is None:
        return reason
    return staff_say("reason.negative_conversations", language, count=parts[0], days=parts[1])


def _localised(values: dict[str, Any], language: str) -> dict[str, Any]:
    """Values that are themselves texts: an alert reason, a task's title (by its kind), a task's why (a key)."""
    out = dict(values)
    if isinstance(out.get("reason"), str):
        out["reason"] = reason_text(out["reason"], language)
    if isinstance(out.get("task_kind"), str):
        out["title"] = task_title(out["task_kind"], language, out.get("title"))
    why = out.get("why")
    if isinstance(why, str) and why.startswith("task_why."):
        out["why"] = STAFF_TEXTS.get(language, STAFF_TEXTS["en"])[why].format(**out)
    return out
