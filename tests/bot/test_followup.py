"""Follow-up search: which texts and vectors it searches, and how many embeddings it costs (a fake index)."""

from __future__ import annotations

import numpy as np

from bot.followup import Followups, FollowupSettings
from knowledge.decision import Candidate, Retrieval
from storage.conversations import ConversationSnapshot, RecentTurn
from storage.models import utcnow


class FakeIndex:
    """Answers from a script: search text -> (exact-embedding retrieval, estimate retrieval)."""

    def __init__(self, embedded: dict[str, np.ndarray], script: dict[str, tuple[Retrieval, Retrieval]]) -> None:
        self._embedded, self._script = embedded, script
        self.searched: list[str] = []

    def search(self, text: str, vector: np.ndarray) -> Retrieval:
        self.searched.append(text)
        exact, estimate = self._script[text]
        return exact if any(np.allclose(vector, v) for v in self._embedded.values()) else estimate


class CountingEmbedder:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def query(self, text: str) -> np.ndarray:
        self.texts.append(text)
        vector = np.random.default_rng(abs(hash(text)) % 2**32).normal(size=8).astype(np.float32)
        return vector / np.linalg.norm(vector)


def answer(faq_id: str, score: float) -> Retrieval:
    return Retrieval("answer", faq_id, faq_id, score, [Candidate(faq_id, score)])


def clarify(*faq_ids: str) -> Retrieval:
    return Retrieval("clarify", None, faq_ids[0], 0.4, [Candidate(f, 0.4) for f in faq_ids])


NOTHING = Retrieval("no_answer", None, "other", 0.1, [])


def snapshot(text: str, decision: str, faq_id: str | None = None) -> ConversationSnapshot:
    return ConversationSnapshot(
        customer_id=1, conversation_id=1, recent=(RecentTurn(text, None, None, decision, utcnow(), faq_id),)
    )


def followups(index, embedder) -> Followups:
    return Followups(FollowupSettings(new_topic={"en": ["also"]}), index, embedder)


def test_a_confident_estimate_answers_the_follow_up_without_embedding_again():
    embedder = CountingEmbedder()
    previous, follow = "how do I cancel my plan", "when does it stop"
    index = FakeIndex({}, {f"{previous} {follow}": (answer("cancel", 0.95), answer("cancel", 0.9))})
    search = followups(index, embedder)
    search.remember(previous, embedder.query(previous))  # as the engine does for every message
    found = search.search(follow, embedder.query(follow), NOTHING, snapshot(previous, "answer", "cancel"))
    assert found.faq_id == "cancel"
    assert embedder.texts == [previous, follow]  # one embedding per message, none for the two together


def test_an_unsure_estimate_is_checked_by_embedding_both_messages_together_once():
    embedder = CountingEmbedder()
    previous, follow = "how do I cancel my plan", "and the fee"
    together = f"{previous} {follow}"
    index = FakeIndex({}, {together: (answer("cancel", 0.93), answer("cancel", 0.7))})
    index._embedded = {together: CountingEmbedder().query(together)}
    search = followups(index, embedder)
    search.remember(previous, embedder.query(previous))  # as the engine does for every message
    found = search.search(follow, embedder.query(follow), NOTHING, snapshot(previous, "answer", "cancel"))
    assert found.faq_id == "cancel" and embedder.texts == [previous, follow, together]


def test_an_estimate_for_another_entry_leaves_the_message_alone():
    embedder = CountingEmbedder()
    previous, follow = "how do I cancel my plan", "what time is it in London"
    index = FakeIndex({}, {f"{previous} {follow}": (answer("cancel", 0.9), answer("roaming", 0.9))})
    search = followups(index, embedder)
    found = search.search(follow, embedder.query(follow), NOTHING, snapshot(previous, "answer", "cancel"))
    assert found is NOTHING


def test_after_a_problem_was_passed_on_the_next_question_is_searched_with_it():
    embedder = CountingEmbedder()
    problem, question = "my mum passed away and I need to close her account", "what do I bring to the store"
    index = FakeIndex({}, {f"{problem} {question}": (clarify("cancel", "lost"), clarify("cancel", "lost"))})
    search = followups(index, embedder)
    found = search.search(question, embedder.query(question), NOTHING, snapshot(problem, "handoff_unavailable"))
    assert [c.faq_id for c in found.candidates] == ["cancel", "lost"]
    new_topic = search.search("also what", embedder.query("also what"), NOTHING, snapshot(problem, "handoff"))
    assert new_topic is NOTHING and index.searched == [f"{problem} {question}"]


def test_choices_the_question_found_alone_are_kept_after_a_problem_was_passed_on():
    embedder = CountingEmbedder()
    problem, question = "someone took over my sim", "how do I lock my line"
    index = FakeIndex({}, {f"{problem} {question}": (answer("puk", 0.6), answer("puk", 0.6))})
    alone = clarify("puk", "lost")
    found = followups(index, embedder).search(
        question, embedder.query(question), alone, snapshot(problem, "handoff_unavailable")
    )
    assert found is alone and index.searched == []


def test_what_follows_a_request_for_a_person_is_not_searched_with_it():
    embedder = CountingEmbedder()
    request, details = "转人工", "我的电话是 13800000000，请回电"
    index = FakeIndex({}, {f"{request} {details}": (answer("contact", 0.9), answer("contact", 0.9))})
    search = Followups(FollowupSettings(), index, embedder, asks_for_person=lambda text: text == request)
    found = search.search(details, embedder.query(details), NOTHING, snapshot(request, "handoff_unavailable"))
    assert found is NOTHING and index.searched == []  # left for staff as a message, not answered with an FAQ


class ExcludingIndex(FakeIndex):
    """A FakeIndex that also answers searches with entries left out: (text, excluded) -> retrieval."""

    def __init__(self, script, without: dict[tuple[str, tuple[str, ...]], Retrieval]) -> None:
        super().__init__({}, script)
        self._without = without

    def search(self, text: str, vector: np.ndarray, exclude=()) -> Retrieval:
        if exclude:
            self.searched.append(f"{text} -{','.join(exclude)}")
            return self._without[(text, tuple(exclude))]
        return super().search(text, vector)


def with_words(index, embedder, **words) -> Followups:
    return Followups(FollowupSettings(min_confidence=0.85, referring_min_confidence=0.5, **words), index, embedder)


def test_a_follow_up_that_points_back_is_answered_from_a_lower_confidence():
    embedder = CountingEmbedder()
    previous, follow = "how do I cancel my plan", "when does it stop"
    index = FakeIndex({}, {f"{previous} {follow}": (answer("cancel", 0.6), answer("cancel", 0.6))})
    search = with_words(index, embedder, refers_back={"en": ["it"]})
    found = search.search(follow, embedder.query(follow), NOTHING, snapshot(previous, "answer", "cancel"))
    assert found.faq_id == "cancel"
    plain = with_words(index, embedder)  # without the pointing word 0.6 is not enough
    assert plain.search(follow, embedder.query(follow), NOTHING, snapshot(previous, "answer", "cancel")) is NOTHING


def test_an_unsure_answer_alone_gives_way_to_a_likelier_follow_up_reading():
    embedder = CountingEmbedder()
    previous, follow = "invoice?", "can it cover bills from last year"
    alone = Retrieval("answer", "bill", "bill", 0.54, [Candidate("bill", 0.54)], confirm=[Candidate("bill", 0.54)])
    index = FakeIndex({}, {f"{previous} {follow}": (answer("invoice", 0.79), answer("invoice", 0.79))})
    search = with_words(index, embedder, refers_back={"en": ["it"]})
    found = search.search(follow, embedder.query(follow), alone, snapshot(previous, "answer", "invoice"))
    assert found.faq_id == "invoice"
    sure = answer("bill", 0.95)  # a sure answer alone is kept
    assert search.search(follow, embedder.query(follow), sure, snapshot(previous, "answer", "invoice")) is sure


def test_a_solved_problem_is_not_searched_with_the_next_question():
    embedder = CountingEmbedder()
    previous, follow = "I can't log in to the app", "logged in, how much data do I have left"
    index = FakeIndex({}, {f"{previous} {follow}": (answer("login", 0.95), answer("login", 0.95))})
    search = with_words(index, embedder, resolved={"en": ["logged in"]})
    found = search.search(follow, embedder.query(follow), NOTHING, snapshot(previous, "answer", "login"))
    assert found is NOTHING and index.searched == []


def test_asking_for_an_alternative_never_gets_the_previous_answer_again():
    embedder = CountingEmbedder()
    previous, follow = "how do I cancel my plan", "what if I move to a cheaper plan instead"
    alone = Retrieval("no_answer", None, "cancel", 0.42, [Candidate("cancel", 0.42), Candidate("change", 0.2)])
    other = Retrieval("clarify", None, "change", 0.4, [Candidate("change", 0.4), Candidate("plans", 0.3)])
    index = ExcludingIndex(
        {f"{previous} {follow}": (answer("cancel", 0.96), answer("cancel", 0.96))}, {(follow, ("cancel",)): other}
    )
    search = with_words(index, embedder, instead={"en": ["instead"]})
    found = search.search(follow, embedder.query(follow), alone, snapshot(previous, "answer", "cancel"))
    assert found is other and index.searched == [f"{follow} -cancel"]


def test_the_likeliest_other_option_is_offered_when_none_is_sure():
    embedder = CountingEmbedder()
    previous, follow = "how do I cancel my plan", "what if I move to a cheaper plan instead"
    alone = Retrieval("no_answer", None, "cancel", 0.42, [Candidate("cancel", 0.42), Candidate("change", 0.2)])
    unsure = Retrieval("no_answer", None, "change", 0.19, [Candidate("change", 0.19), Candidate("bills", 0.05)])
    index = ExcludingIndex({}, {(follow, ("cancel",)): unsure})
    found = with_words(index, embedder, instead={"en": ["instead"]}).search(
        follow, embedder.query(follow), alone, snapshot(previous, "answer", "cancel")
    )
    assert [c.faq_id for c in found.confirm] == ["change"]  # "Is this what you mean?", not the cancelling answer
