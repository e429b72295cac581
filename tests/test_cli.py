"""run.py as knowledge editors and staff use it, in-process (same code path as the shell)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import run
from bot.runtime import Runtime
from bot.settings import Settings
from storage.conversations import ConversationLog, LoggedMessage
from storage.db import Database

GOOD = [
    {
        "id": "shipping_time",
        "questions": ["How long does shipping take?", "发货要多久"],
        "answer_en": "2-3 days.",
        "answer_zh": "2-3 天。",
    },
    {"id": "returns", "questions": ["How do I return an item?", "怎么退货"], "answer": "Use My Orders > Return."},
]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exited:
        run.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "chat", "kb", "emotion", "customer"):
        assert command in out


def test_import_with_bad_rows_reports_every_line_and_imports_nothing(data_dir, tmp_path, capsys):
    source = tmp_path / "faq.jsonl"
    source.write_text(
        json.dumps(GOOD[0]) + "\n" + "{broken json\n" + json.dumps({"id": "x", "questions": []}) + "\n",
        encoding="utf-8",
    )
    assert run.main(["kb", "import", str(source)]) == 1
    err = capsys.readouterr().err
    assert ":2" in err and ":3" in err and "nothing imported" in err

    assert run.main(["kb", "list"]) == 0
    assert capsys.readouterr().out == ""

    assert run.main(["kb", "import", str(source), "--skip-bad"]) == 0
    assert "imported 1 new" in capsys.readouterr().out


def test_edit_history_rollback_and_remove(data_dir, tmp_path, capsys):
    source = tmp_path / "faq.jsonl"
    write_jsonl(source, GOOD)
    assert run.main(["kb", "import", str(source), "--author", "alice"]) == 0
    write_jsonl(source, [GOOD[0] | {"answer_en": "5 days."}])
    assert run.main(["kb", "import", str(source), "--author", "bob"]) == 0
    capsys.readouterr()

    assert run.main(["kb", "history", "shipping_time"]) == 0
    history = capsys.readouterr().out.splitlines()
    assert len(history) == 2 and "alice" in history[0] and "bob" in history[1]

    assert history[0].split()[0] == "r1"
    assert run.main(["kb", "rollback", "shipping_time", "r1"]) == 0  # as `kb history` printed it
    capsys.readouterr()
    assert run.main(["kb", "show", "shipping_time"]) == 0
    assert json.loads(capsys.readouterr().out)["answer_en"] == "2-3 days."

    assert run.main(["kb", "remove", "returns"]) == 0
    capsys.readouterr()
    assert run.main(["kb", "show", "returns"]) == 1


def test_export_round_trips_through_every_format(data_dir, tmp_path, capsys):
    source = tmp_path / "faq.jsonl"
    write_jsonl(source, GOOD)
    assert run.main(["kb", "import", str(source)]) == 0
    for suffix in ("jsonl", "csv", "md"):
        exported = tmp_path / f"out.{suffix}"
        assert run.main(["kb", "export", str(exported)]) == 0
        assert run.main(["kb", "import", str(exported)]) == 0
        assert "2 unchanged" in capsys.readouterr().out.splitlines()[-1]


def test_ask_batch_with_a_throwaway_kb_keeps_order_and_fields(data_dir, tmp_path, capsys):
    kb_file, questions, out = tmp_path / "kb.jsonl", tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    write_jsonl(kb_file, GOOD)
    write_jsonl(
        questions,
        [{"text": "how do i send something back", "expected": "returns"}, {"text": "发货需要几天"}, {"text": ""}],
    )
    assert run.main(["kb", "ask", "--batch", str(questions), "--out", str(out), "--kb", str(kb_file)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["how do i send something back", "发货需要几天", ""]
    assert set(rows[0]) == {"text", "faq_id", "top", "score", "decision", "latency_ms"}
    assert rows[0]["top"] == "returns" and rows[1]["top"] == "shipping_time"
    assert not (data_dir / "warmdesk.db").exists()


def test_emotion_command_prints_a_label(data_dir, capsys):
    assert run.main(["emotion", "你们太过分了！我要投诉！"]) == 0
    tagged = json.loads(capsys.readouterr().out)
    assert tagged["emotion"] == "anger" and tagged["signals"]


def test_customer_show_export_forget(data_dir, tmp_path, capsys, monkeypatch):
    db = Database(f"sqlite:///{data_dir / 'warmdesk.db'}")
    db.migrate()
    ConversationLog(db).record_exchange(
        "telegram",
        "tg-1001",
        "tg-1001",
        "Wang Fang",
        LoggedMessage("in", "退款怎么还没到", language="zh", emotion_label="anxiety", emotion_intensity=0.6),
        [LoggedMessage("out", "退款一般 3-5 个工作日到账。", language="zh")],
    )
    db.dispose()

    assert run.main(["customer", "show", "wang"]) == 0
    shown = capsys.readouterr().out
    assert "Wang Fang" in shown and "telegram: tg-1001" in shown and "anxiety" in shown
    assert "Emotion profile" in shown and "dominant: anxiety" in shown

    assert run.main(["customer", "stats"]) == 0
    assert "1 tagged message in 1 conversation" in capsys.readouterr().out

    exported = tmp_path / "me.json"
    assert run.main(["customer", "export", "tg-1001", "--out", str(exported)]) == 0
    assert json.loads(exported.read_text(encoding="utf-8"))["messages"][0]["text"] == "退款怎么还没到"

    monkeypatch.setattr("builtins.input", lambda _prompt: "no")
    assert run.main(["customer", "forget", "tg-1001"]) == 1
    assert run.main(["customer", "forget", "tg-1001", "--yes"]) == 0
    capsys.readouterr()
    assert run.main(["customer", "show", "tg-1001"]) == 1
    assert "no customer" in capsys.readouterr().err


def test_a_damaged_database_gets_an_error_that_says_what_to_do(data_dir, capsys):
    data_dir.mkdir(parents=True)
    (data_dir / "warmdesk.db").write_bytes(b"this is not sqlite" * 100)
    assert run.main(["kb", "list"]) == 3
    err = capsys.readouterr().err
    assert "damaged" in err and "WARMDESK_DATA_DIR" in err


def test_the_data_dir_may_come_before_or_after_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("WARMDESK_DATA_DIR", raising=False)
    source = tmp_path / "faq.jsonl"
    write_jsonl(source, GOOD)
    assert run.main(["kb", "import", str(source), "--data-dir", str(tmp_path / "after")]) == 0
    capsys.readouterr()
    assert run.main(["--data-dir", str(tmp_path / "after"), "kb", "list"]) == 0
    assert "shipping_time" in capsys.readouterr().out
    assert run.main(["kb", "list", "--data-dir", str(tmp_path / "empty")]) == 0
    assert "shipping_time" not in capsys.readouterr().out


def test_a_data_dir_that_is_a_file_is_refused_clearly(tmp_path, monkeypatch, capsys):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert run.main(["--data-dir", str(not_a_dir), "chat"]) == 3
    assert "not a folder" in capsys.readouterr().err


def test_kb_commands_rebuild_a_damaged_vector_index_from_the_database(data_dir, tmp_path, capsys):
    source = tmp_path / "faq.jsonl"
    write_jsonl(source, GOOD)
    assert run.main(["kb", "import", str(source)]) == 0
    (data_dir / "chroma" / "chroma.sqlite3").write_bytes(b"\0" * 4096)
    capsys.readouterr()

    assert run.main(["kb", "ask", "how long does shipping take?"]) == 0
    assert "top: shipping_time" in capsys.readouterr().out


def test_output_piped_into_a_reader_that_stops_early_ends_without_a_traceback(data_dir):
    script = Path(run.__file__)
    command = [sys.executable, str(script), "emotion", "where is my parcel?"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.close()  # like `| head -0`: the reader is gone before anything is printed
        errors = process.stderr.read().decode()
    assert process.returncode == 1
    assert "Traceback" not in errors and "BrokenPipeError" not in errors


def test_a_kb_imported_before_the_first_start_is_not_mixed_with_the_demo(data_dir, tmp_path):
    source = tmp_path / "faq.jsonl"
    write_jsonl(source, GOOD)
    assert run.main(["kb", "import", str(source)]) == 0
    runtime = Runtime.open(Settings(data_dir=data_dir, seed_demo_kb=True))
    try:
        assert len(runtime.knowledge) == len(GOOD)
    finally:
        runtime.close()


def test_a_mistake_in_the_business_file_stops_serve_with_one_line(data_dir, tmp_path, monkeypatch, capsys):
    business = tmp_path / "business.toml"
    business.write_text('[texts.en]\ngreting = "Hello!"\n', encoding="utf-8")
    monkeypatch.setenv("WARMDESK_BUSINESS_FILE", str(business))

    assert run.main(["serve", "--port", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "texts.en.greting is not a text the bot uses" in error


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["kb", "import", "x.txt"], "unsupported FAQ file type '.txt'"),
        (["kb", "export", "x.txt"], "unsupported FAQ file type '.txt'"),
        (["kb", "import", "missing.jsonl"], "no such file: missing.jsonl"),
        (["kb", "export", "no/such/folder/out.jsonl"], "no such folder: no/such/folder"),
        (["kb", "ask", "--kb", "missing.csv", "refund?"], "no such file: missing.csv"),
        (["kb", "ask", "--batch", "missing.jsonl", "--out", "o.jsonl"], "no such file: missing.jsonl"),
        (["emotion", "--batch", "missing.jsonl", "--out", "o.jsonl"], "no such file: missing.jsonl"),
        (["emotion", "--batch", "in.jsonl"], "--batch needs --out"),
        (["emotion"], "give a text"),
    ],
)
def test_a_user_mistake_is_one_line_and_exit_status_2(data_dir, tmp_path, monkeypatch, capsys, argv, says):
    monkeypatch.chdir(tmp_path)
    assert run.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err == f"error: {says}" or err.startswith(f"error: {says}")


def test_emotion_batch_names_bad_lines_by_number_and_writes_nothing(data_dir, tmp_path, capsys):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"text": "where is my parcel?"}\n{"txt": "typo"}\nnot json\n', encoding="utf-8")
    assert run.main(["emotion", "--batch", str(source), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f'{source}:2: no "text" string' and err[1].startswith(f"{source}:3: not JSON")
    assert err[-1] == "error: nothing tagged: 2 line(s) without a text" and not out.exists()


def test_counts_are_said_in_the_singular_for_one(data_dir, tmp_path, capsys):
    source = tmp_path / "faq.jsonl"
    write_jsonl(source, [{"id": "only", "questions": ["Just one?"], "answer": "Yes."}])
    assert run.main(["kb", "import", str(source)]) == 0
    capsys.readouterr()
    assert run.main(["kb", "list"]) == 0
    assert capsys.readouterr().out == "only\t1 question\tJust one?\n"
    assert run.main(["kb", "history", "only"]) == 0
    assert "\t1 question\t" in capsys.readouterr().out
    assert run.main(["kb", "export", str(tmp_path / "out.jsonl")]) == 0
    assert "exported 1 entry to" in capsys.readouterr().out


def test_jieba_says_nothing_on_stderr(data_dir):
    command = [sys.executable, str(Path(run.__file__)), "emotion", "我的快递怎么还没到，太慢了"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "prefix dict" not in finished.stderr and "jieba" not in finished.stderr.lower()


def test_customer_list_finds_an_anonymous_web_visitor_by_channel_and_date(data_dir, capsys):
    db = Database(f"sqlite:///{data_dir / 'warmdesk.db'}")
    db.migrate()
    log = ConversationLog(db)
    log.record_exchange("telegram", "tg-1", "tg-1", "Wang Fang", LoggedMessage("in", "你好"), [])
    log.record_exchange("web", "f3a9c2secretsession", "f3a9c2secretsession", None, LoggedMessage("in", "refund?"), [])
    db.dispose()

    assert run.main(["customer", "list", "--channel", "web"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and "(no name)" in listed[0] and "web:f3a9c2…" in listed[0] and "“refund?”" in listed[0]
    assert "secretsession" not in listed[0]  # a web session id is the key to that chat: never printed whole
    assert run.main(["customer", "list"]) == 0
    assert "Wang Fang" in capsys.readouterr().out
    assert run.main(["customer", "list", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == "no customers match\n"
    with pytest.raises(SystemExit) as exited:
        run.main(["customer", "list", "--since", "yesterday"])
    assert exited.value.code == 2 and "not a date" in capsys.readouterr().err


def test_customer_hold_sets_and_lifts_a_legal_hold(data_dir, capsys):
    db = Database(f"sqlite:///{data_dir / 'warmdesk.db'}")
    db.migrate()
    ConversationLog(db).record_exchange("web", "hold-me-1", None, "Li", LoggedMessage("in", "hi"), [])
    db.dispose()
    assert run.main(["customer", "hold", "hold-me-1", "--on"]) == 0
    assert "on legal hold" in capsys.readouterr().out
    assert run.main(["customer", "hold", "hold-me-1", "--off"]) == 0
    assert "no longer on legal hold" in capsys.readouterr().out
    assert run.main(["customer", "hold", "nobody-here", "--on"]) == 1
    with pytest.raises(SystemExit) as exit_status:
        run.main(["customer", "hold", "hold-me-1"])
    assert exit_status.value.code == 2


def test_llm_usage_shows_tokens_per_day_and_purpose_against_the_budget(data_dir, capsys, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from storage.llm_usage import LlmUsageRepository
    from storage.models import LlmUsage

    monkeypatch.setenv("LLM_DAILY_TOKEN_BUDGET", "1000")
    from bot.runtime import open_database

    usage = LlmUsageRepository(open_database(Settings()))
    today = datetime.now(UTC).date()
    day = lambda back: (today - timedelta(days=back)).isoformat()  # noqa: E731
    for back, purpose, tokens_in, tokens_out, outcome in (
        (0, "answer", 300, 100, "ok"),
        (0, "answer", 0, 0, "rejected"),
        (0, "summary", 80, 20, "ok"),
        (2, "suggest", 40, 10, "ok"),
        (9, "answer", 5000, 5000, "ok"),  # older than --days 7
    ):
        usage.add(LlmUsage(day=day(back), purpose=purpose, model="m", input_tokens=tokens_in,
                           output_tokens=tokens_out, outcome=outcome))  # fmt: skip

    assert run.main(["llm", "usage"]) == 0
    out = capsys.readouterr().out
    assert "LLM mode is off" in out and "daily budget: 1,000 tokens" in out
    rows = [line.split() for line in out.splitlines()]
    assert [day(0), "answer", "2", "1", "0", "300", "100", "0.0000"] in rows
    assert [day(0), "summary", "1", "0", "0", "80", "20", "0.0000"] in rows
    assert f"{day(0)}  total       500 tokens = 50% of the budget" in out
    assert f"{day(2)}  total       50 tokens = 5% of the budget" in out
    assert day(9) not in out
    assert run.main(["llm", "usage", "--days", "10"]) == 0
    assert f"{day(9)}  total       10,000 tokens = 1000% of the budget" in capsys.readouterr().out

    for wrong in ("0", "x", "400"):
        assert run.main(["llm", "usage", "--days", wrong]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "--days must be a whole number from 1 to 366" in error


def test_import_warns_about_an_english_answer_written_with_chinese_characters(data_dir, tmp_path, capsys):
    source = tmp_path / "faq.jsonl"
    mixed = {"id": "degree", "questions": ["how do I verify my degree"], "answer_en": "Use 云帆网 to verify it."}
    write_jsonl(source, [mixed, GOOD[0]])
    assert run.main(["kb", "import", str(source)]) == 0  # imported: the business fixes its own text
    captured = capsys.readouterr()
    assert "warning" in captured.err and "'degree'" in captured.err and "云帆网" in captured.err
    assert GOOD[0]["id"] not in captured.err and "imported 2 new" in captured.out
