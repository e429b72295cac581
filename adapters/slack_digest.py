"""The weekly digest as Slack Block Kit, and posting it with the real slack-sdk client."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from adapters.slack_blocks import escape
from bot.insights.digest import Change, WeeklyDigest

# Staff-facing labels (managers), not customer texts: they stay here, in both languages.
LABELS = {
    "en": {
        "title": "Weekly digest {start} – {end}",
        "changes": "*This week* (last week)",
        "frustration": "*Top frustration topics*",
        "at_risk": "*Customers at risk* ({total})",
        "unanswered": "*Biggest unanswered clusters*",
        "none": "_none_",
        "conversations": "Conversations",
        "customer_messages": "Customer messages",
        "bot_resolution_rate": "Bot resolution",
        "handoff_rate": "Handoff rate",
        "unanswered_rate": "Unanswered",
        "csat": "CSAT (4–5 of 5)",
        "negative_share": "Negative messages",
        "messages": "{count} messages",
    },
    "zh": {
        "title": "每周摘要 {start} – {end}",
        "changes": "*本周*（上周）",
        "frustration": "*最让客户不满的话题*",
        "at_risk": "*有流失风险的客户*（{total}）",
        "unanswered": "*未能回答的问题（最多的几类）*",
        "none": "_无_",
        "conversations": "会话",
        "customer_messages": "客户消息",
        "bot_resolution_rate": "机器人解决率",
        "handoff_rate": "转人工率",
        "unanswered_rate": "未回答率",
        "csat": "满意度（4–5 分）",
        "negative_share": "负面消息占比",
        "messages": "{count} 条",
    },
}
RATES = {"bot_resolution_rate", "handoff_rate", "unanswered_rate", "csat", "negative_share"}


def _value(change: Change, value) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if change.name in RATES else f"{value:,}"


def digest_blocks(digest: WeeklyDigest, language: str = "en") -> list[dict[str, Any]]:
    say = LABELS.get(language, LABELS["en"])

    def section(text: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}

    title = say["title"].format(start=f"{digest.start:%Y-%m-%d}", end=f"{digest.end:%Y-%m-%d}")
    changes = "\n".join(f"{say[c.name]}: *{_value(c, c.this_week)}* ({_value(c, c.last_week)})" for c in digest.changes)
    topics = "\n".join(
        f"• *{escape(t.label)}* – {say['messages'].format(count=t.count)}"
        + "".join(f"\n    > {escape(example)}" for example in t.examples)
        for t in digest.frustration_topics
    )
    customers = "\n".join(
        f"• #{c.id} {escape(c.name or '')} ({escape(c.tier)}, {', '.join(c.channels)})"
        for c in digest.at_risk_customers
    )
    clusters = "\n".join(
        f"• *{escape(c.label)}* – {c.count}" + "".join(f"\n    > {escape(example)}" for example in c.examples)
        for c in digest.unanswered_clusters
    )
    return [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section(f"{say['changes']}\n{changes}"),
        {"type": "divider"},
        section(f"{say['frustration']}\n{topics or say['none']}"),
        section(f"{say['at_risk'].format(total=digest.at_risk_total)}\n{customers or say['none']}"),
        section(f"{say['unanswered']}\n{clusters or say['none']}"),
    ]


def post_digest(client: WebClient, channel: str, digest: WeeklyDigest, language: str = "en") -> str:
    """Post to `channel`; returns the message's ts. Slack errors raise slack_sdk's SlackApiError."""
    title = LABELS.get(language, LABELS["en"])["title"].format(
        start=f"{digest.start:%Y-%m-%d}", end=f"{digest.end:%Y-%m-%d}"
    )
    answer = client.chat_postMessage(channel=channel, text=title, blocks=digest_blocks(digest, language))
    return answer["ts"]
