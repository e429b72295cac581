from __future__ import annotations

import pytest

from knowledge.entry import FaqEntry
from knowledge.io import load_entries, write_entries

ENTRIES = [
    FaqEntry(
        "reset-password",
        ["How do I reset my password?", "忘记密码怎么办"],
        answer_en="Use the login page.",
        answer_zh="在登录页重置。",
        tags=["account", "login"],
    ),
    FaqEntry("refund", ["How do I get a refund?"], answer='Orders > Refund.\n\nIt takes 3 days, "usually".'),
    FaqEntry("hours", ["Opening hours?", "几点上班"], answer="9-18", answer_en="9am-6pm", tags=["info"]),
]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".md"])
def test_round_trip(tmp_path, suffix):
    path = tmp_path / f"faq{suffix}"
    write_entries(path, ENTRIES)
    result = load_entries(path)
    assert result.errors == []
    assert result.entries == ENTRIES


def test_jsonl_reports_every_bad_row_and_imports_nothing(tmp_path):
    path = tmp_path / "faq.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"id": "ok", "questions": ["fine?"], "answer": "yes"}',
                '{"questions": ["no id"], "answer": "x"}',
                '{"id": "no-q", "questions": [], "answer": "x"}',
                '{"id": "no-a", "questions": ["q"]}',
                "{not json",
                '{"id": "ok", "questions": ["again"], "answer": "different"}',
            ]
        ),
        encoding="utf-8",
    )
    result = load_entries(path)
    assert result.entries == []
    assert [issue.line for issue in result.errors] == [2, 3, 4, 5, 6]
    messages = " | ".join(str(issue) for issue in result.errors)
    assert "missing id" in messages and "no questions" in messages and "no answer" in messages
    assert "bad JSON" in messages and "duplicate id 'ok'" in messages

    kept = load_entries(path, skip_bad=True)
    assert [entry.id for entry in kept.entries] == ["ok"] and len(kept.errors) == 5


def test_csv_rows_merge_by_id(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,question,answer,answer_zh,answer_en,tags\n"
        "refund,How do I get a refund?,Orders > Refund,,,billing\n"
        "hours,Opening hours?,9-18,,,\n"
        "refund,我想退款,,在订单页退款,,\n"
        "refund,Money back please,,,,billing|orders\n",
        encoding="utf-8",
    )
    result = load_entries(path)
    assert result.errors == []
    refund = next(entry for entry in result.entries if entry.id == "refund")
    assert refund.questions == ["How do I get a refund?", "我想退款", "Money back please"]
    assert (refund.answer, refund.answer_zh, refund.tags) == ("Orders > Refund", "在订单页退款", ["billing", "orders"])


def test_csv_bad_rows_have_line_numbers(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,question,answer\n,orphan question,x\na,q1,answer one\na,q2,answer two\nb,,x\n",
        encoding="utf-8",
    )
    result = load_entries(path)
    assert result.entries == []
    assert [issue.line for issue in result.errors] == [2, 4, 5]


def test_markdown_alternative_questions_and_languages(tmp_path):
    path = tmp_path / "faq.md"
    path.write_text(
        "# Our FAQ\n\nintro text\n\n"
        "## How do I reset my password?\n## 忘记密码怎么办\n<!-- id: pw -->\n\n"
        "### en\nUse the login page.\n### zh\n在登录页重置。\n\n"
        "## Where are you?\nBerlin.\n\n"
        "## Empty one\n",
        encoding="utf-8",
    )
    result = load_entries(path)
    assert [str(issue) for issue in result.errors] == [
        "line 17: entry 'empty-one' has no answer (answer, answer_zh or answer_en)"
    ]
    kept = load_entries(path, skip_bad=True).entries
    assert kept[0] == FaqEntry(
        "pw",
        ["How do I reset my password?", "忘记密码怎么办"],
        answer_en="Use the login page.",
        answer_zh="在登录页重置。",
    )
    assert (kept[1].id, kept[1].answer) == ("where-are-you", "Berlin.")


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ValueError):
        load_entries(tmp_path / "faq.xlsx")
