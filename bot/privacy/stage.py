"""Data requests in the chat: "what do you know about me", "delete my data" (with a confirmation and a receipt),
"don't analyse my emotions", "who looked at my data", consent. Answered before anything else, also while the
conversation is held for an agent, and never logged with an emotion label.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.engine import EngineReply
from bot.messages import Choice, InboundMessage, OutboundMessage
from bot.outbox import outbox_row
from bot.privacy.copies import CopiesRemoved, CopyRemover, remove_copies
from bot.privacy.report import accesses_text, summary_text
from bot.privacy.rules import Intent, PrivacyRules
from bot.texts import Texts
from storage.conversations import ConversationSnapshot, LoggedMessage
from storage.customers import CustomerRepository
from storage.models import utcnow
from storage.privacy import Confirmation, PrivacyStore, new_deletion_id


class PrivacyDecision:
    SUMMARY = "privacy_summary"
    EXPORT = "data_export"  # also the kind of the message that carries the export file
    NOTHING_STORED = "privacy_nothing_stored"
    CONFIRM_DELETE = "privacy_delete_confirm"
    DELETED = "privacy_deleted"
    CANCELLED = "privacy_delete_cancelled"
    EXPIRED = "privacy_delete_expired"
    ON_HOLD = "privacy_on_hold"
    EMOTIONS_OFF = "privacy_emotions_off"
    ACCESSES = "privacy_accesses"
    CONSENT_QUESTION = "privacy_consent_question"
    CONSENT_GIVEN = "privacy_consent_given"
    CONSENT_WITHDRAWN = "privacy_consent_withdrawn"


CONFIRM_CHOICE = "privacy:confirm"
CANCEL_CHOICE = "privacy:cancel"
AGREE_CHOICE = "privacy:agree"
# Messages sent to someone whose data is gone (receipts) or was never kept (the strict consent question):
# stored without a customer, and scrubbed from the outbox once delivered (bot/privacy/housekeeping.py).
UNATTACHED_KINDS = (PrivacyDecision.DELETED, PrivacyDecision.CONSENT_WITHDRAWN, PrivacyDecision.CONSENT_QUESTION)
EXPORT_PATH = "/privacy/export/"
GENERIC_KIND = "privacy"
LINK_PLACEHOLDER = "[one-time link]"
EXPORT_LINK_KIND = "export_link"

Record = Callable[..., object]  # Engine._record: (message, inbound, replies, queued, purpose, snapshot) -> Exchange


@dataclass(slots=True)
class _Turn:
    """One data request being answered: what the engine handed over."""

    message: InboundMessage
    language: str
    snapshot: ConversationSnapshot
    queue_replies: bool
    record: Record


class DataRights:
    def __init__(
        self,
        store: PrivacyStore,
        customers: CustomerRepository,
        rules: PrivacyRules,
        texts: Texts,
        *,
        public_url: str = "",
        file_platforms: frozenset[str] = frozenset(),
        clock=utcnow,
    ) -> None:
        self.store = store
        self.customers = customers
        self.rules = rules
        self.texts = texts
        self.public_url = public_url.rstrip("/")
        self.file_platforms = set(file_platforms)  # channels whose adapter sends the export as a file
        self.copies: dict[str, CopyRemover] = {}  # desk name -> remover of what Warmdesk posted there (Slack)
        self._clock = clock

    # -- the engine's hooks ---------------------------------------------------------------------------------

    def analyses_emotions(self, snapshot: ConversationSnapshot) -> bool:
        if snapshot.customer_id is None:
            return True
        if snapshot.emotion_analysis is not None:  # read with the snapshot, in the same query
            return snapshot.emotion_analysis
        return self.store.analyses_emotions(snapshot.customer_id)

    def notice_shown(self, customer_id: int, version: str | None = None) -> None:
        """The customer was shown the privacy notice (`version`: the one a page showed; default the current)."""
        self.store.record_notice(customer_id, version or self.rules.notice_version)

    def first_words(self, language: str) -> dict[str, object]:
        """What a page shows a new visitor before they type: the privacy notice, or with strict consent the
        consent question and its "I agree" button (nothing is stored until they press it or type it)."""
        strict = self.rules.strict_consent
        words = {
            "version": self.rules.notice_version,
            "strict": strict,
            "text": self.texts.say("privacy_consent_question" if strict else "privacy_notice", language),
        }
        if strict:
            words["choices"] = [{"id": AGREE_CHOICE, "label": self.texts.say("privacy_agree", language)}]
        return words

    def opening(self, message: InboundMessage, opens: bool, language: str, queue_replies: bool) -> EngineReply | None:
        """A platform's chat event (Telegram /start, WeChat subscribe or unsubscribe) from someone not stored yet,
        with strict consent: an opening gets the consent question, and nothing is stored. None otherwise."""
        if not self.rules.strict_consent or self.store.customer_for(message.platform, message.platform_user_id):
            return None
        if not opens:
            return EngineReply([], language)
        turn = _Turn(message, language, None, queue_replies, lambda *_: None)
        return self._consent_question(turn)

    def handle(
        self,
        message: InboundMessage,
        text: str,
        language: str,
        snapshot: ConversationSnapshot,
        queue_replies: bool,
        record: Record,
    ) -> EngineReply | None:
        """The whole answer to a data request (logged, queued, acted on), or None for any other message."""
        intent = self._intent(message, text)
        turn = _Turn(message, language, snapshot, queue_replies, record)
        if intent == Intent.CONFIRM and message.message_id and self.store.receipt_for(_key(message)):
            return EngineReply([], language, duplicate=True)  # a platform's retry of the "yes" that deleted
        if self.rules.strict_consent and snapshot.customer_id is None:
            if intent == Intent.AGREE:
                return self._agree(turn)
            return self._consent_question(turn)
        if intent is None:
            return None
        if intent in (Intent.CONFIRM, Intent.CANCEL) and not _asked_to_confirm(snapshot):
            return None  # a "yes" or "no" that answers something else
        if snapshot.customer_id is None and intent != Intent.NO_EMOTIONS and intent != Intent.AGREE:
            return self._unattached(turn, PrivacyDecision.NOTHING_STORED, self._say("privacy_nothing_stored", turn))
        return {
            Intent.VIEW: self._view,
            Intent.DELETE: self._ask_to_delete,
            Intent.CONFIRM: self._confirm,
            Intent.CANCEL: self._cancel,
            Intent.NO_EMOTIONS: self._no_emotions,
            Intent.WHO_LOOKED: self._who_looked,
            Intent.AGREE: self._agree,
            Intent.WITHDRAW: self._withdraw,
        }[intent](turn)

    # -- what the adapters call -----------------------------------------------------------------------------

    def export_document(self, platform: str, platform_user_id: str) -> tuple[str, bytes] | None:
        """The file a channel sends for an export request: (file name, JSON bytes), None if the data is gone."""
        customer_id = self.store.customer_for(platform, platform_user_id)
        return self._document(customer_id) if customer_id is not None else None

    def export_by_link(self, token: str) -> tuple[str, bytes] | None:
        customer_id = self.store.redeem_export_link(token)
        return self._document(customer_id) if customer_id is not None else None

    def _document(self, customer_id: int) -> tuple[str, bytes] | None:
        data = self.customers.export(customer_id, actor="customer")
        if data is None:
            return None
        name = f"warmdesk-my-data-{self._clock():%Y%m%d}.json"
        return name, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")

    # -- the requests ---------------------------------------------------------------------------------------

    def _view(self, turn: _Turn) -> EngineReply:
        customer_id = turn.snapshot.customer_id
        summary = summary_text(self.store.summary(customer_id), turn.language, self.rules, self.texts)
        replies = [self._out(turn, summary, PrivacyDecision.SUMMARY)]
        logged = [summary]
        if turn.message.platform in self.file_platforms:
            replies.append(self._out(turn, self._say("privacy_export_file", turn), PrivacyDecision.EXPORT))
            logged.append(replies[-1].text)
        else:
            minutes = self.rules.export_link_minutes
            token = self.store.issue_export_link(customer_id, timedelta(minutes=minutes))
            link = self._say("privacy_export_link", turn, minutes=_number(minutes))
            replies.append(
                self._out(turn, link.replace("{url}", f"{self.public_url}{EXPORT_PATH}{token}"), EXPORT_LINK_KIND)
            )
            logged.append(link.replace("{url}", LINK_PLACEHOLDER))  # the token is a key: never stored in clear
        return self._logged(turn, PrivacyDecision.SUMMARY, replies, logged)

    def _ask_to_delete(self, turn: _Turn) -> EngineReply:
        customer_id = turn.snapshot.customer_id
        if self.store.on_legal_hold(customer_id):
            return self._logged(turn, PrivacyDecision.ON_HOLD, [self._out(turn, self._say("privacy_on_hold", turn))])
        self.store.ask_to_delete(customer_id, timedelta(minutes=self.rules.confirm_minutes))
        text = self._say("privacy_delete_confirm", turn, minutes=_number(self.rules.confirm_minutes))
        choices = [
            Choice(CONFIRM_CHOICE, self._say("privacy_yes", turn)),
            Choice(CANCEL_CHOICE, self._say("privacy_no", turn)),
        ]
        return self._logged(turn, PrivacyDecision.CONFIRM_DELETE, [self._out(turn, text, choices=choices)])

    def _confirm(self, turn: _Turn) -> EngineReply | None:
        customer_id = turn.snapshot.customer_id
        state = self.store.take_confirmation(customer_id)
        if state == Confirmation.NONE:
            return None
        if state == Confirmation.EXPIRED:
            return self._logged(
                turn, PrivacyDecision.EXPIRED, [self._out(turn, self._say("privacy_delete_expired", turn))]
            )
        if self.store.on_legal_hold(customer_id):
            return self._logged(turn, PrivacyDecision.ON_HOLD, [self._out(turn, self._say("privacy_on_hold", turn))])
        return self._erase(turn, "customer_request", "privacy_deleted", PrivacyDecision.DELETED)

    def _cancel(self, turn: _Turn) -> EngineReply | None:
        if not self.store.cancel_confirmation(turn.snapshot.customer_id):
            return None
        return self._logged(
            turn, PrivacyDecision.CANCELLED, [self._out(turn, self._say("privacy_delete_cancelled", turn))]
        )

    def _no_emotions(self, turn: _Turn) -> EngineReply:
        was_on = self.analyses_emotions(turn.snapshot)
        text = self._say("privacy_emotions_off" if was_on else "privacy_emotions_already_off", turn)
        reply = self._logged(turn, PrivacyDecision.EMOTIONS_OFF, [self._out(turn, text)])
        if reply.customer_id is not None:
            self.store.stop_emotion_analysis(reply.customer_id)
        return reply

    def _who_looked(self, turn: _Turn) -> EngineReply:
        accesses = self.store.staff_accesses(turn.snapshot.customer_id)
        text = accesses_text(accesses, turn.language, self.rules, self.texts)
        return self._logged(turn, PrivacyDecision.ACCESSES, [self._out(turn, text)])

    def _agree(self, turn: _Turn) -> EngineReply:
        reply = self._logged(
            turn, PrivacyDecision.CONSENT_GIVEN, [self._out(turn, self._say("privacy_consent_thanks", turn))]
        )
        if reply.customer_id is not None:
            self.store.set_consent(reply.customer_id, "given", self.rules.notice_version)
        return reply

    def _withdraw(self, turn: _Turn) -> EngineReply:
        customer_id = turn.snapshot.customer_id
        if self.store.on_legal_hold(customer_id):  # kept as the law requires, but no longer analysed
            self.store.set_consent(customer_id, "withdrawn")
            self.store.stop_emotion_analysis(customer_id)
            return self._logged(turn, PrivacyDecision.ON_HOLD, [self._out(turn, self._say("privacy_on_hold", turn))])
        return self._erase(turn, "consent_withdrawn", "privacy_consent_withdrawn", PrivacyDecision.CONSENT_WITHDRAWN)

    # -- helpers --------------------------------------------------------------------------------------------

    def _erase(self, turn: _Turn, reason: str, text_key: str, decision: str) -> EngineReply:
        """Delete, then answer with a receipt that is stored nowhere near the customer (there is none left)."""
        key = _key(turn.message) if turn.message.message_id else None
        receipt_id, now = new_deletion_id(), self._clock()
        text = self._say(text_key, turn, deletion_id=receipt_id, time=f"{now:%Y-%m-%d %H:%M}")
        text += self._copies_sentence(self._remove_copies(turn.snapshot.customer_id), turn)
        reply = self._out(turn, text, decision)
        deliveries = (
            [outbox_row(reply, f"privacy-receipt:{key}" if key else None, now=now)] if turn.queue_replies else []
        )
        if not self.store.erase(turn.snapshot.customer_id, reason, key, receipt_id, now, deliveries):
            return EngineReply([], turn.language, duplicate=True)
        return EngineReply([reply], turn.language, decision=decision)

    def _consent_question(self, turn: _Turn) -> EngineReply:
        agree = [Choice(AGREE_CHOICE, self._say("privacy_agree", turn))]
        return self._unattached(
            turn, PrivacyDecision.CONSENT_QUESTION, self._say("privacy_consent_question", turn), choices=agree
        )

    def _remove_copies(self, customer_id: int) -> CopiesRemoved:
        """Before the rows go (they say where the copies are): the desks delete what Warmdesk posted there."""
        found = self.store.desk_copies(customer_id)
        return remove_copies(self.copies, found.threads, found.messages) + CopiesRemoved(kept=found.unaddressed)

    def _copies_sentence(self, copies: CopiesRemoved, turn: _Turn) -> str:
        text = ""
        if copies.removed:
            text += " " + self._say("privacy_copies_removed", turn, count=copies.removed)
        if copies.kept:
            text += " " + self._say("privacy_copies_kept", turn, count=copies.kept)
        return text

    def _unattached(self, turn: _Turn, decision: str, text: str, choices: list[Choice] | None = None) -> EngineReply:
        """A reply to someone with no stored record; nothing of theirs is logged."""
        reply = self._out(turn, text, decision, choices=choices)
        if turn.queue_replies:
            key = f"privacy-{decision}:{_key(turn.message)}" if turn.message.message_id else None
            self.store.queue_unattached(outbox_row(reply, key))
        return EngineReply([reply], turn.language, decision=decision)

    def _logged(
        self, turn: _Turn, decision: str, replies: list[OutboundMessage], logged: list[str] | None = None
    ) -> EngineReply:
        message = turn.message
        for reply in replies:
            reply.kind = decision if reply.kind == GENERIC_KIND else reply.kind
        inbound = LoggedMessage(
            "in", message.text or "", language=turn.language, platform_message_id=message.message_id, decision=decision
        )
        texts = logged if logged is not None else [r.text for r in replies]
        outs = [LoggedMessage("out", text, language=turn.language, decision=decision) for text in texts]
        exchange = turn.record(message, inbound, outs, replies if turn.queue_replies else [], "reply", turn.snapshot)
        if exchange.duplicate:
            return EngineReply([], turn.language, duplicate=True, customer_id=exchange.customer_id)
        return EngineReply(
            replies,
            turn.language,
            decision=decision,
            customer_id=exchange.customer_id,
            conversation_id=exchange.conversation_id,
        )

    def _out(self, turn: _Turn, text: str, kind: str | None = None, choices: list[Choice] | None = None):
        message = turn.message
        return OutboundMessage(
            message.platform,
            message.platform_user_id,
            text,
            turn.language,
            chat_id=message.chat_id,
            choices=list(choices or []),
            kind=kind or GENERIC_KIND,
        )

    def _say(self, key: str, turn: _Turn, **values) -> str:
        text = self.texts.say(key, turn.language)
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def _intent(self, message: InboundMessage, text: str) -> str | None:
        if message.choice_id == CONFIRM_CHOICE:
            return Intent.CONFIRM
        if message.choice_id == CANCEL_CHOICE:
            return Intent.CANCEL
        if message.choice_id == AGREE_CHOICE:
            return Intent.AGREE
        if message.content_type != "text" or message.choice_id or not text:
            return None
        return self.rules.intent(text)


def _asked_to_confirm(snapshot: ConversationSnapshot) -> bool:
    """The bot's last question in this conversation was "delete everything?"."""
    return bool(snapshot.recent) and snapshot.recent[-1].bot_decision == PrivacyDecision.CONFIRM_DELETE


def _key(message: InboundMessage) -> str:
    return f"{message.platform}:{message.message_id}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
