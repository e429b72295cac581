"""The sentences a customer reads about their data: what is stored, and who on the staff looked at it."""

from __future__ import annotations

from bot.emotion.base import LABELS
from bot.privacy.rules import PrivacyRules
from bot.texts import Texts
from storage.models import AuditLog
from storage.privacy import StoredSummary

SHOWN_ACCESSES = 20  # the newest ones; the export has them all
ROLES = {"cli": "role_cli", "console": "role_console", "slack": "role_slack", "staff": "role_staff"}


def summary_text(summary: StoredSummary, language: str, rules: PrivacyRules, texts: Texts) -> str:
    word = lambda key: rules.word(key, language)  # noqa: E731
    identities = ", ".join(f"{platform} ({user})" for platform, user in summary.identities) or word("none")
    privacy = summary.privacy
    if privacy is not None and not privacy.emotion_analysis:
        emotions = word("emotions_off")
    elif summary.emotion_counts:
        ordered = sorted(
            summary.emotion_counts.items(), key=lambda kv: (-kv[1], LABELS.index(kv[0]) if kv[0] in LABELS else 99)
        )
        emotions = ", ".join(f"{word(label)} {count}" for label, count in ordered)
    else:
        emotions = word("none")
    consent = [
        word(
            {"given": "consent_given", "withdrawn": "consent_withdrawn"}.get(
                privacy.consent if privacy else None, "consent_unknown"
            )
        )
    ]
    if privacy is not None and privacy.notice_version and privacy.notice_seen_at:
        seen = word("notice_seen").replace("{version}", privacy.notice_version)
        consent.append(seen.replace("{time}", f"{privacy.notice_seen_at:%Y-%m-%d %H:%M}"))
    return (
        texts.say("privacy_summary", language)
        .replace("{identities}", identities)
        .replace("{conversations}", str(summary.conversations))
        .replace("{messages}", str(summary.messages))
        .replace("{emotions}", emotions)
        .replace("{notes}", str(summary.notes))
        .replace("{consent}", ", ".join(consent))
    )


def accesses_text(accesses: list[AuditLog], language: str, rules: PrivacyRules, texts: Texts) -> str:
    if not accesses:
        return texts.say("privacy_no_accesses", language)
    lines = [_access(row, language, rules) for row in accesses[-SHOWN_ACCESSES:]]
    separator = "；" if language == "zh" else "; "
    return (
        texts.say("privacy_accesses", language)
        .replace("{count}", str(len(accesses)))
        .replace("{accesses}", separator.join(lines))
    )


def _access(row: AuditLog, language: str, rules: PrivacyRules) -> str:
    kind, _, name = row.actor.partition(":")
    role = rules.word(ROLES.get(kind, "role_other"), language)
    who = f"{name} ({role})" if rules.show_staff_names and name else role
    return f"{who} {row.created_at:%Y-%m-%d %H:%M} UTC"
