"""After each exchange: apply the emotion rules (at-risk conversation, repeated negative conversations).

Their thresholds are the business file's [emotion_alerts] section (`load_emotion_rules`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.business import BusinessFile, BusinessFileError
from bot.emotion.base import NEGATIVE_LABELS
from bot.emotion.profile import EmotionRecord, ProfileRules, negative_conversation_alert, summarise_conversation
from storage.emotions import EmotionStore, TaggedMessage
from storage.models import EmotionAlert, utcnow


def emotion_records(messages: Sequence[TaggedMessage]) -> list[EmotionRecord]:
    return [
        EmotionRecord(
            timestamp=m.created_at,
            conversation_id=str(m.conversation_id),
            label=m.emotion_label,
            intensity=m.emotion_intensity or 0.0,
            faq_id=m.faq_id,
            text=m.text,
            customer_id=str(m.customer_id),
        )
        for m in messages
    ]


class EmotionAlertRules(BaseModel):
    """[emotion_alerts]: when a conversation is at risk and when the account manager gets an alert."""

    model_config = ConfigDict(extra="forbid")

    at_risk_streak: int = Field(3, ge=1, le=100, strict=True)
    alert_negative_conversations: int = Field(2, ge=1, le=100, strict=True)
    alert_window_days: float = Field(30.0, gt=0, le=3650, strict=True)

    def profile_rules(self) -> ProfileRules:
        return ProfileRules(
            at_risk_streak=self.at_risk_streak,
            alert_negative_conversations=self.alert_negative_conversations,
            alert_window_days=self.alert_window_days,
        )


def load_emotion_rules(business: BusinessFile) -> ProfileRules:
    try:
        return EmotionAlertRules.model_validate(business.section("emotion_alerts")).profile_rules()
    except ValidationError as error:
        problem = error.errors()[0]
        key = ".".join(map(str, problem["loc"]))
        raise BusinessFileError(f"[emotion_alerts] {key}: {problem['msg']} (got {problem['input']!r})") from error


@dataclass(frozen=True, slots=True)
class WatchOutcome:
    became_at_risk: bool = False
    alert: EmotionAlert | None = None


class EmotionWatch:
    def __init__(self, store: EmotionStore, rules: ProfileRules | None = None) -> None:
        self._store = store
        self._rules = rules or ProfileRules()

    def after_exchange(self, customer_id: int, conversation_id: int, label: str | None) -> WatchOutcome:
        """Cheap when the message is not negative: the rules can only fire on a negative message."""
        if label not in NEGATIVE_LABELS:
            return WatchOutcome()
        window_start = utcnow() - timedelta(days=self._rules.alert_window_days)
        by_conversation = defaultdict(list)
        for record in emotion_records(self._store.tagged_messages(customer_id, since=window_start)):
            by_conversation[record.conversation_id].append(record)
        summaries = [summarise_conversation(records, self._rules) for records in by_conversation.values()]
        current = next((s for s in summaries if s.conversation_id == str(conversation_id)), None)
        became_at_risk = bool(current and current.at_risk and self._store.flag_at_risk(conversation_id))
        reason = negative_conversation_alert(summaries, self._rules)
        alert = self._store.raise_alert(customer_id, reason, not_since=window_start) if reason else None
        return WatchOutcome(became_at_risk, alert)
