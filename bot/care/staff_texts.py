"""What relationship care tells staff (Slack, the staff inbox), in the agent-side language (en / zh)."""

from __future__ import annotations

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
    },
}


def staff_say(key: str, language: str, **values: object) -> str:
    return STAFF_TEXTS.get(language, STAFF_TEXTS["en"])[key].format(**values)
