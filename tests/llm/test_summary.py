"""The handoff summary by the LLM: structured fields in the agent's language above the template, which stays."""

from __future__ import annotations

import json

from benchmarks.fake_llm_server import Reply
from bot.llm.summary import MARK
from tests.llm.conftest import ask


def summaries(runtime):
    return runtime.handoff.after_open.__self__


def handed_over(runtime, user: str) -> int:
    ask(runtime, "How much is shipping?", user=user)
    reply = ask(runtime, "I want to talk to a human", user=user)
    assert reply.handoff_id is not None
    summaries(runtime).flush()
    return reply.handoff_id


def test_a_new_handoff_gets_the_llm_fields_above_the_template_summary(fake, llm_runtime):
    handoff_id = handed_over(llm_runtime, "summary-ok")
    summary = llm_runtime.handoff.repository.get(handoff_id).summary
    llm_part, template = summary.split(MARK)
    assert llm_part.startswith("LLM summary\nGoal: I want to talk to a human")
    assert "Mood: " in llm_part and "First step: " in llm_part
    assert template.strip() and "LLM summary" not in template
    assert any("transcript" in json.loads(r["messages"][-1]["content"]) for r in fake.requests)


def test_a_summary_that_invents_a_number_or_an_unavailable_llm_leaves_the_template_alone(fake, llm_runtime):
    fields = dict.fromkeys(("goal", "problem", "tried", "emotion_path", "first_step"), "Refund order 99812 today")
    fake.behaviour = lambda request: Reply(json.dumps(fields))
    invented = handed_over(llm_runtime, "summary-invented")
    assert MARK not in llm_runtime.handoff.repository.get(invented).summary

    fake.behaviour = lambda request: Reply(status=500)
    down = handed_over(llm_runtime, "summary-down")
    assert MARK not in llm_runtime.handoff.repository.get(down).summary
