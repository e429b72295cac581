"""Account linking as an engine interceptor: "link" asks for a one-time code, sending the code elsewhere links."""

from __future__ import annotations

import re

from bot.messages import InboundMessage
from bot.policy import PlannedReply
from bot.texts import DEFAULT_TEXTS, Texts
from storage.conversations import ConversationSnapshot
from storage.identity_links import IdentityLinks, LinkOutcome

LINK_REQUESTS = frozenset({"link", "link account", "link my account", "绑定", "绑定账号", "关联账号"})
CODE_PATTERN = re.compile(r"^\s*[A-Za-z0-9]{4}\s*-\s*[A-Za-z0-9]{4}\s*$")
# Only channels where one person has a lasting account; a web chat session id is not worth linking.
LINKABLE_PLATFORMS = frozenset({"telegram", "wechat"})


class LinkDecision:
    CODE_ISSUED = "link_code"
    LINKED = "linked"
    REFUSED = "link_refused"


class AccountLinking:
    def __init__(
        self, links: IdentityLinks, platforms: frozenset[str] = LINKABLE_PLATFORMS, texts: Texts = DEFAULT_TEXTS
    ) -> None:
        self._links = links
        self._texts = texts
        self._platforms = platforms

    def intercept(
        self, message: InboundMessage, text: str, language: str, snapshot: ConversationSnapshot
    ) -> PlannedReply | None:
        if message.platform not in self._platforms:
            return None
        request = text.strip().lower().rstrip("。.!！")
        if request in LINK_REQUESTS:
            code = self._links.issue(message.platform, message.platform_user_id)
            minutes = int(self._links.ttl.total_seconds() // 60)
            return PlannedReply(
                LinkDecision.CODE_ISSUED, self._texts.say("link_code", language).format(code=code, minutes=minutes)
            )
        if CODE_PATTERN.match(text):
            result = self._links.redeem(
                text.replace(" ", ""), message.platform, message.platform_user_id, message.display_name
            )
            text_key = {
                LinkOutcome.LINKED: "link_done",
                LinkOutcome.ALREADY: "link_already",
                LinkOutcome.SAME_ACCOUNT: "link_same_account",
            }.get(result.outcome, "link_invalid")
            decision = LinkDecision.LINKED if result.outcome == LinkOutcome.LINKED else LinkDecision.REFUSED
            return PlannedReply(decision, self._texts.say(text_key, language))
        return None
