"""Every sentence the bot says to customers, in each language it speaks."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": (
            "Hi, I'm the Warmdesk assistant. Ask me about orders, shipping, returns, refunds, payment, "
            'your account, points or invoices. You can type "human" at any time to talk to a person.'
        ),
        "clarify": "I want to get this right. Did you mean one of these?",
        "none_of_these": "None of these",
        "no_answer": (
            "Sorry, I don't have a good answer to that yet. I've passed your question on to our team "
            "so a colleague can follow up."
        ),
        "empty": "I didn't catch any text there. Could you type your question?",
        "non_text": "I can only read text for now. Could you type your question?",
        "talk_to_person": "Talk to a person",
        "handoff_started": (
            "I'm bringing in a colleague from our team. They will see our whole conversation, so you won't need "
            "to repeat yourself. Please stay in this chat."
        ),
        "handoff_after_hours": (
            "I've passed this to a colleague. Our team is available {hours}, so it's outside our hours right now: "
            "a person will reply in this chat when they are back. You can leave any details here."
        ),
        "handoff_wait": (
            "Sorry for the wait: everyone on our team is busy right now. The expected wait is about {minutes} "
            "minutes (team hours: {hours}). You can leave a message here and a colleague will answer in this chat."
        ),
        "always_open": "around the clock",
        "agent_joined": "A person from our team has joined the conversation.",
        "back_to_bot": 'You are back with the Warmdesk assistant. Type "human" at any time to reach a person again.',
        "rating_request": (
            "You are back with the Warmdesk assistant. How would you rate the help you got from our team, "
            "from 1 (poor) to 5 (excellent)?"
        ),
        "rating_thanks": "Thank you for your rating! Anything else I can help you with?",
        # Channels and account linking
        "privacy_notice": (
            "Privacy: we keep your messages and this account's id to answer you and to improve our service. "
            'Type "human" to reach a person; ask our team at any time to export or delete your data.'
        ),
        "link_code": (
            "Your link code is {code}. Within {minutes} minutes, send it to us from your other account "
            "(WeChat or Telegram) and we will treat both as one customer. The code works once."
        ),
        "link_done": "Done: your accounts are linked. We now see one history for you across channels.",
        "link_already": "These accounts are already linked.",
        "link_same_account": "Please send this code from your other account (WeChat or Telegram), not this one.",
        "link_invalid": 'That link code is wrong or has expired. Type "link" on your other account for a new one.',
    },
    "zh": {
        "greeting": (
            "您好，我是 Warmdesk 智能客服。订单、物流、退换货、退款、支付、账户、积分、发票的问题都可以问我。"
            "随时输入“人工”即可转接人工客服。"
        ),
        "clarify": "我想确认一下，您问的是下面哪一个？",
        "none_of_these": "都不是",
        "no_answer": "抱歉，这个问题我暂时还答不好。我已经把您的问题转给了同事，会有人跟进处理。",
        "empty": "没有收到文字内容，请输入您的问题。",
        "non_text": "我目前只能看懂文字消息，请用文字描述您的问题。",
        "talk_to_person": "转人工",
        "handoff_started": "正在为您转接人工客服。同事能看到我们之前的全部对话，您无需重复说明，请在此稍候。",
        "handoff_after_hours": (
            "已为您转接人工。我们的服务时间是{hours}，现在不在服务时间内，同事上班后会在这里回复您，您可以先留言。"
        ),
        "handoff_wait": (
            "抱歉让您久等了，目前客服都在忙。预计还需等待约 {minutes} 分钟（服务时间：{hours}）。"
            "您可以在这里留言，同事会在此回复您。"
        ),
        "always_open": "全天 24 小时",
        "agent_joined": "人工客服已加入对话。",
        "back_to_bot": "您已回到 Warmdesk 智能客服。随时输入“人工”即可再次转接人工客服。",
        "rating_request": "您已回到 Warmdesk 智能客服。请为刚才人工客服的服务打分：1（很差）到 5（很好）。",
        "rating_thanks": "感谢您的评价！还有什么可以帮您？",
        # Channels and account linking
        "privacy_notice": (
            "隐私说明：我们会保存您的消息和本账号的标识，用于回复您和改进服务。"
            "输入“人工”可联系客服同事；您可随时请我们导出或删除您的数据。"
        ),
        "link_code": "您的绑定码是 {code}。请在 {minutes} 分钟内用您的另一个账号（微信或 Telegram）把它发给我们，"
        "我们就会把两个账号视为同一位客户。绑定码只能使用一次。",
        "link_done": "绑定成功：您的账号已关联，各渠道的记录会合并在一起。",
        "link_already": "这两个账号已经绑定过了。",
        "link_same_account": "请用您的另一个账号（微信或 Telegram）发送这个绑定码，而不是当前账号。",
        "link_invalid": "绑定码不正确或已过期。请在另一个账号上发送“绑定账号”获取新的绑定码。",
    },
}

LANGUAGES = tuple(TEXTS)


def say(key: str, language: str) -> str:
    return TEXTS.get(language, TEXTS["en"])[key]
