""" "stop" / "不要再发了" as an engine interceptor: the customer opts out of proactive messages (and back in).

Stored on the customer, so it holds on every channel they use (linked accounts are one customer); the
message is logged with the decision `opt_out`, which also covers a customer whose first message it was.
"""

from __future__ import annotations

from bot.care.rules import FollowupRules, normalise_phrase
from bot.messages import InboundMessage
from bot.policy import PlannedReply
from bot.texts import Texts
from storage.care import OPT_IN_DECISION, OPT_OUT_DECISION, CareRepository
from storage.conversations import ConversationSnapshot


class OptOut:
    def __init__(self, care: CareRepository, rules: FollowupRules, texts: Texts) -> None:
        self._care = care
        self._stop = frozenset(rules.opt_out_phrases)
        self._resume = frozenset(rules.opt_in_phrases)
        self._texts = texts

    def intercept(
        self, message: InboundMessage, text: str, language: str, snapshot: ConversationSnapshot
    ) -> PlannedReply | None:
        phrase = normalise_phrase(text)
        if phrase in self._stop:
            if snapshot.customer_id is not None:
                self._care.set_opted_out(snapshot.customer_id, True)
            return PlannedReply(OPT_OUT_DECISION, self._texts.say("followup_opted_out", language))
        if phrase in self._resume:
            if snapshot.customer_id is not None:
                self._care.set_opted_out(snapshot.customer_id, False)
            return PlannedReply(OPT_IN_DECISION, self._texts.say("followup_opted_in", language))
        return None
