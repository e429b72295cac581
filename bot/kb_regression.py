"""Editors' KB regression tests: saved customer questions that must be answered with a given entry.

`run.py kb test` and the staff app's "Run tests" run them against the live index; before an editor's save goes
live, the same tests run against a preview of the index with the change applied, and a test the change would
break is shown first.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.entry import FaqEntry
from storage.staff_kb import TestCase


@dataclass(frozen=True, slots=True)
class TestOutcome:
    test: TestCase
    decision: str
    got: str | None  # the entry the bot answers with (or offers first)
    confidence: float

    @property
    def passed(self) -> bool:
        return self.decision == "answer" and self.got == self.test.expected_faq_id


def run_tests(knowledge: KnowledgeBase, tests: list[TestCase]) -> list[TestOutcome]:
    outcomes = []
    for test in tests:
        result = knowledge.search(test.question)
        outcomes.append(TestOutcome(test, result.decision, result.faq_id or result.top, result.score))
    return outcomes


def broken_by(
    knowledge: KnowledgeBase, tests: list[TestCase], changed: FaqEntry | None = None, removed: str | None = None
) -> list[TestOutcome]:
    """Tests that pass now and would fail once `changed` is saved (or `removed` is removed)."""
    if not tests:
        return []
    passing = [outcome.test for outcome in run_tests(knowledge, tests) if outcome.passed]
    if not passing:
        return []
    after = run_tests(knowledge.preview(changed, removed), passing)
    return [outcome for outcome in after if not outcome.passed]
