"""Deciding a pending draft, the same way from every place an editor can (the staff app, Slack, auto-approval).

A "question" draft adds the customer's wording to its entry as one more question; an "entry" draft becomes a new
entry with the draft's question and the answers the editor gave per language (zh / en), or else the draft's own
answer in its language. An entry with one language only is listed by the KB editor's "missing" filter. Either is
saved as a new revision of the knowledge base (history, rollback) and goes live for the bot at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.entry import FaqEntry
from storage.faqs import FaqRepository, RevisionConflict
from storage.staff_drafts import Draft, DraftRepository


@dataclass(frozen=True, slots=True)
class Decided:
    ok: bool
    faq_id: str | None = None
    problem: str = ""  # why not: "not pending", "entry removed", "entry exists", "no answer"


class DraftApproval:
    def __init__(self, drafts: DraftRepository, faqs: FaqRepository, knowledge: KnowledgeBase) -> None:
        self.drafts, self._faqs, self._knowledge = drafts, faqs, knowledge

    def approve(self, draft_id: int, editor: str, answers: dict[str, str] | None = None) -> Decided:
        """`answers` ({"zh": ..., "en": ...}) replace a new entry's answer; a blank one is left out."""
        draft = self.drafts.get(draft_id)
        if draft is None or draft.status != "pending":
            return Decided(False, problem="not pending")
        if draft.kind == "question":
            return self._add_wording(draft, editor)
        entry = entry_from_draft(draft, answers)
        if not (entry.answer_zh or entry.answer_en):
            return Decided(False, problem="no answer")
        try:
            self._faqs.save_if_unchanged(entry, 0, editor, f"draft {draft.id} ({draft.source})")
        except RevisionConflict:
            return Decided(False, entry.id, "entry exists")
        self._knowledge.upsert(entry)
        self.drafts.decide(draft.id, "approved", editor, entry.id)
        return Decided(True, entry.id)

    def reject(self, draft_id: int, editor: str) -> Decided:
        if self.drafts.decide(draft_id, "rejected", editor):
            return Decided(True)
        return Decided(False, problem="not pending")

    def _add_wording(self, draft: Draft, editor: str) -> Decided:
        for _attempt in range(3):  # another editor saving the entry meanwhile: read it again and retry
            entry, revision = self._faqs.get(draft.faq_id or ""), self._faqs.revision_of(draft.faq_id or "")
            if entry is None:
                return Decided(False, draft.faq_id, "entry removed")
            if draft.question not in entry.questions:
                entry.questions.append(draft.question)
            try:
                self._faqs.save_if_unchanged(entry, revision, editor, f"draft {draft.id} ({draft.source})")
            except RevisionConflict:
                continue
            self._knowledge.upsert(entry)
            self.drafts.decide(draft.id, "approved", editor, entry.id)
            return Decided(True, entry.id)
        return Decided(False, draft.faq_id, "entry busy")


def entry_from_draft(draft: Draft, answers: dict[str, str] | None = None) -> FaqEntry:
    """A new entry from an "entry" draft: its question and its answers, the editor's when given (per language),
    else the draft's own in its language."""
    slug = re.sub(r"[^\w]+", "-", draft.question.lower()).strip("-")[:60] or "entry"
    faq_id = slug if slug.isascii() else f"draft-{draft.id}"
    given = answers if answers is not None else {draft_language(draft): draft.answer}
    zh, en = ((given.get(language) or "").strip() or None for language in ("zh", "en"))
    return FaqEntry(faq_id, [draft.question], None, zh, en, [])


def draft_language(draft: Draft) -> str:
    return "zh" if draft.language == "zh" else "en"
