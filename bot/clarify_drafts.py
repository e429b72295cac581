"""Drafts from customers' clarify picks: a customer who typed a question, got "Did you mean…?" and pressed one of the
entries told us that their wording means that entry. The wording becomes a pending draft adding it to the entry
as another question; an editor approves it (staff app or Slack) before the bot learns it.

Near-duplicates are dropped: a wording an entry already has proposes nothing, and one that means the same as a
pending draft for the same entry (embeddings closer than NEAR_DUPLICATE) counts on that draft instead. With
WARMDESK_KB_AUTO_APPROVE_PICKS = N > 0, a draft picked N times is approved by itself (audited as
`auto:clarify-picks`); off by default.

The message path only notices the pick; the database work runs on one background thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np

from bot.draft_approval import DraftApproval
from bot.policy import FAQ_CHOICE_PREFIX, Decision
from storage.staff_drafts import Draft

log = logging.getLogger("warmdesk.drafts")

NEAR_DUPLICATE = 0.95
AUTO_APPROVER = "auto:clarify-picks"


class ClarifyPicks:
    def __init__(
        self,
        approval: DraftApproval,
        embedder,
        auto_approve_at: int = 0,
        audit: Callable[[str, str, str | None, dict | None], None] | None = None,
    ) -> None:
        self._approval, self._drafts, self._embedder = approval, approval.drafts, embedder
        self.auto_approve_at = auto_approve_at
        self._audit = audit
        self.on_draft: list[Callable[[Draft], None]] = []  # e.g. post it to the editors' Slack channel
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="clarify-picks")
        self._running: list[Future] = []
        self._vectors: dict[int, np.ndarray] = {}  # pending drafts' wordings, embedded once

    def noticed(self, choice_id: str | None, recent, decision: str, faq_id: str | None, language: str, conversation_id):
        """Called by the engine for every message: cheap unless it is a pick following a clarify question."""
        if not choice_id or not choice_id.startswith(FAQ_CHOICE_PREFIX) or decision != Decision.ANSWER or not faq_id:
            return
        asked = recent[-1] if recent else None
        if asked is None or asked.bot_decision != Decision.CLARIFY or not asked.text.strip():
            return
        self._running = [f for f in self._running if not f.done()]
        self._running.append(self._worker.submit(self._safely, asked.text.strip(), faq_id, language, conversation_id))

    def drain(self, timeout: float = 30.0) -> None:
        """Wait for the picks noticed so far to be recorded (tests, benchmarks, shutdown)."""
        wait(list(self._running), timeout=timeout)

    def _safely(self, wording: str, faq_id: str, language: str, conversation_id) -> Draft | None:
        try:
            return self.record(wording, faq_id, language, f"clarify:{conversation_id}")
        except Exception:  # a lost draft must never break chat; the pick itself is in the message log
            log.exception("could not record a clarify pick as a draft")
            return None

    def record(self, wording: str, faq_id: str, language: str, source: str) -> Draft | None:
        near = self._near_duplicate(wording, faq_id)
        if near is not None:
            draft = self._drafts.count_on(near)
        else:
            draft = self._drafts.propose_question(wording, faq_id, language, source)
        if draft is None:
            return None
        if self.auto_approve_at and draft.count >= self.auto_approve_at:
            decided = self._approval.approve(draft.id, AUTO_APPROVER)
            if decided.ok and self._audit:
                detail = {"faq": faq_id, "picks": draft.count}
                self._audit(AUTO_APPROVER, "kb.draft_approve", f"faq_draft:{draft.id}", detail)
            return self._drafts.get(draft.id)
        if draft.count == 1:
            for listener in self.on_draft:
                listener(draft)
        return draft

    def _near_duplicate(self, wording: str, faq_id: str) -> int | None:
        pending = [d for d in self._drafts.pending("question") if d.faq_id == faq_id]
        if not pending:
            return None
        missing = [d for d in pending if d.id not in self._vectors]
        if missing:
            for draft, vector in zip(missing, self._embedder.queries([d.question for d in missing]), strict=True):
                self._vectors[draft.id] = vector
        vector = self._embedder.query(wording)
        best = max(pending, key=lambda d: float(np.dot(self._vectors[d.id], vector)))
        return best.id if float(np.dot(self._vectors[best.id], vector)) >= NEAR_DUPLICATE else None
