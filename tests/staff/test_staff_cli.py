"""`run.py staff ...` and `run.py kb test ...` as an admin and an editor type them."""

from __future__ import annotations

import io
import json

import pytest

import run
from storage.db import Database
from storage.staff import StaffRepository

PASSWORD = "a long enough password"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def staff_repository(data_dir) -> StaffRepository:
    return StaffRepository(Database(f"sqlite:///{data_dir / 'warmdesk.db'}"))


def with_stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_an_admin_adds_lists_changes_and_disables_accounts(data_dir, monkeypatch, capsys):
    with_stdin(monkeypatch, PASSWORD + "\n")
    assert run.main(["staff", "add", "edna", "--role", "editor", "--role", "agent", "--password-stdin"]) == 0
    assert staff_repository(data_dir).verify("edna", PASSWORD) == ("editor", "agent")
    assert run.main(["staff", "list"]) == 0
    assert "edna\teditor,agent\tactive" in capsys.readouterr().out

    with_stdin(monkeypatch, "another long password\n")
    assert run.main(["staff", "passwd", "edna", "--password-stdin"]) == 0
    assert staff_repository(data_dir).verify("edna", PASSWORD) is None
    assert staff_repository(data_dir).verify("edna", "another long password") == ("editor", "agent")

    assert run.main(["staff", "disable", "edna"]) == 0
    assert staff_repository(data_dir).verify("edna", "another long password") is None
    capsys.readouterr()
    run.main(["staff", "list"])
    assert "disabled" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["staff", "add", "bob", "--role", "editor", "--password-stdin"], "short\n", "at least 10 characters"),
        (["staff", "add", "bob smith", "--role", "editor", "--password-stdin"], PASSWORD + "\n", "bad name"),
        (["staff", "disable", "nobody"], "", "no account named 'nobody'"),
        (["staff", "passwd", "nobody", "--password-stdin"], PASSWORD + "\n", "no account named 'nobody'"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(data_dir, monkeypatch, capsys, argv, stdin, message):
    with_stdin(monkeypatch, stdin)
    assert run.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_second_account_with_the_same_name_is_refused(data_dir, monkeypatch, capsys):
    for expected in (0, 2):
        with_stdin(monkeypatch, PASSWORD + "\n")
        assert run.main(["staff", "add", "edna", "--role", "editor", "--password-stdin"]) == expected
    assert "already an account named 'edna'" in capsys.readouterr().err


def test_kb_test_passes_then_fails_when_the_entry_loses_its_questions(data_dir, tmp_path, capsys):
    source = tmp_path / "kb.jsonl"
    rows = [
        {"id": "shipping", "questions": ["How long does shipping take?", "发货要多久"], "answer": "2-3 days."},
        {"id": "returns", "questions": ["How do I return an item?", "怎么退货"], "answer": "Use My Orders."},
    ]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert run.main(["kb", "import", str(source)]) == 0
    assert run.main(["kb", "test", "add", "How long does shipping take?", "shipping"]) == 0
    assert run.main(["kb", "test", "add", "How long does shipping take?", "shipping"]) == 2
    assert run.main(["kb", "test", "add", "only one argument"]) == 2
    assert run.main(["kb", "test", "add", "q", "no-such-entry"]) == 2
    capsys.readouterr()
    assert run.main(["kb", "test"]) == 0
    assert "1 of 1 tests passed" in capsys.readouterr().out

    rows[0]["questions"] = ["What colour is the logo?"]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert run.main(["kb", "import", str(source)]) == 0
    capsys.readouterr()
    assert run.main(["kb", "test", "run"]) == 1
    assert "FAIL\tHow long does shipping take?" in capsys.readouterr().out
    assert run.main(["kb", "test", "delete", "x"]) == 2
