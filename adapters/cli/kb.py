"""`run.py kb ...`: knowledge editors add, edit, review, version and test FAQ entries."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from adapters.cli import kb_collections
from adapters.cli.errors import UsageError, plural
from bot.kb_regression import run_tests
from bot.runtime import background_questions, open_database, open_knowledge, retrieval_settings
from bot.settings import Settings
from knowledge.answer_language import answer_language_warnings
from knowledge.base import KnowledgeBase
from knowledge.batch import ask_batch
from knowledge.embedder import shared_embedder
from knowledge.io import format_for, load_entries, write_entries
from storage.db import row_id
from storage.faqs import FaqRepository, UnknownFaq
from storage.staff_kb import DuplicateTest, KbTests


def register(commands: argparse._SubParsersAction) -> None:
    kb = commands.add_parser("kb", help="manage the FAQ knowledge base").add_subparsers(
        dest="kb_command", required=True
    )

    p = kb.add_parser("import", help="import FAQ entries from .jsonl, .csv or .md (validated first)")
    p.add_argument("file", type=Path)
    p.add_argument("--skip-bad", action="store_true", help="import the good rows even when some are bad")
    p.add_argument("--author", default="cli", help="recorded on every revision (default: cli)")
    p.set_defaults(handler=import_entries)

    p = kb.add_parser("export", help="export all entries to .jsonl, .csv or .md")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=export_entries)

    kb.add_parser("list", help="list entries").set_defaults(handler=list_entries)

    p = kb.add_parser("show", help="show one entry")
    p.add_argument("faq_id")
    p.set_defaults(handler=show_entry)

    p = kb.add_parser("ask", help="ask the knowledge base as a customer would (one text or a JSONL batch)")
    p.add_argument("text", nargs="?")
    p.add_argument("--batch", type=Path, help='JSONL file with a "text" field per line')
    p.add_argument("--out", type=Path, help="where the batch results go (JSONL, same order)")
    p.add_argument("--kb", type=Path, help="build a throwaway index from this file instead of the data dir")
    p.set_defaults(handler=ask)

    p = kb.add_parser("history", help="every revision of one entry")
    p.add_argument("faq_id")
    p.set_defaults(handler=history)

    p = kb.add_parser("rollback", help="make an earlier revision live again (as a new revision)")
    p.add_argument("faq_id")
    p.add_argument("revision", type=_revision, help="a number from `kb history` (r3 or 3)")
    p.add_argument("--author", default="cli")
    p.set_defaults(handler=rollback)

    p = kb.add_parser("test", help="editors' regression tests: run them all, or add / list / delete one")
    p.add_argument("action", nargs="?", default="run", choices=("run", "add", "list", "delete"))
    p.add_argument("args", nargs="*", help="add: QUESTION FAQ_ID · delete: TEST_ID")
    p.add_argument("--author", default="cli")
    p.set_defaults(handler=kb_tests)

    p = kb.add_parser("remove", help="remove an entry (its history stays)")
    p.add_argument("faq_id")
    p.add_argument("--author", default="cli")
    p.set_defaults(handler=remove)

    kb_collections.register(kb)


def _revision(given: str) -> int:
    """`kb history` prints revisions as r1, r2...; either that or the bare number is accepted."""
    revision = row_id(given.removeprefix("r").removeprefix("R"))
    if revision is None:
        raise argparse.ArgumentTypeError(f"not a revision: {given!r} (expected r3 or 3)")
    return revision


def _repository(settings: Settings) -> FaqRepository:
    return FaqRepository(open_database(settings))


def _index(settings: Settings) -> KnowledgeBase:
    return open_knowledge(settings, shared_embedder(settings.embed_threads))[0]


def _report_issues(path: Path, issues) -> None:
    """One line per problem, `file:line: message`, the way editors and compilers point at a line."""
    for issue in issues:
        print(f"{path}:{issue.line}: {issue.message}", file=sys.stderr)


def _progress(done: int, total: int) -> None:
    if total >= 50:
        print(f"\rembedding {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def _readable(path: Path) -> Path:
    """Checked before the database or the model opens: a wrong name is the user's, said in one line."""
    format_for(path)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    return path


def import_entries(settings: Settings, args: argparse.Namespace) -> int:
    result = load_entries(_readable(args.file), skip_bad=args.skip_bad)
    _report_issues(args.file, result.errors)
    if result.errors and not args.skip_bad:
        print(f"nothing imported: {len(result.errors)} problem(s); fix them or use --skip-bad", file=sys.stderr)
        return 1
    for entry in result.entries:  # imported anyway: the business's own text, for its editors to fix
        for warning in answer_language_warnings(entry):
            print(f"{args.file}: warning: {warning}", file=sys.stderr)
    repository = _repository(settings)
    report = repository.save_many(result.entries, author=args.author, note=f"import {args.file.name}")
    _index(settings).sync(repository.all(), progress=_progress)
    skipped = f", rows with {len(result.errors)} problem(s) skipped" if result.errors else ""
    print(f"imported {report.created} new, {report.updated} updated, {report.unchanged} unchanged{skipped}")
    return 0


def export_entries(settings: Settings, args: argparse.Namespace) -> int:
    format_for(args.file)
    if not args.file.parent.is_dir():
        raise UsageError(f"no such folder: {args.file.parent}")
    entries = _repository(settings).all()
    write_entries(args.file, entries)
    print(f"exported {len(entries)} {'entry' if len(entries) == 1 else 'entries'} to {args.file}")
    return 0


def list_entries(settings: Settings, args: argparse.Namespace) -> int:
    for entry in _repository(settings).all():
        print(f"{entry.id}\t{plural(len(entry.questions), 'question')}\t{entry.title()}")
    return 0


def show_entry(settings: Settings, args: argparse.Namespace) -> int:
    entry = _repository(settings).get(args.faq_id)
    if entry is None:
        print(f"no entry {args.faq_id!r}", file=sys.stderr)
        return 1
    print(json.dumps(entry.to_dict(), ensure_ascii=False, indent=2))
    return 0


def ask(settings: Settings, args: argparse.Namespace) -> int:
    if args.batch:
        _readable_batch(args.batch)
    if args.kb:
        loaded = load_entries(_readable(args.kb))
        if loaded.errors:
            _report_issues(args.kb, loaded.errors)
            return 1
        embedder = shared_embedder(settings.embed_threads)
        knowledge = KnowledgeBase.in_memory(
            loaded.entries, embedder, settings=retrieval_settings(settings), background=background_questions(settings)
        )
    else:
        knowledge = _index(settings)
        knowledge.sync(_repository(settings).all(), progress=_progress)
    if args.batch:
        if not args.out:
            print("--batch needs --out", file=sys.stderr)
            return 2
        count = ask_batch(knowledge, args.batch, args.out)
        print(f"answered {plural(count, 'question')} into {args.out}")
        return 0
    if not args.text:
        print("give a question, or --batch IN.jsonl --out OUT.jsonl", file=sys.stderr)
        return 2
    result = knowledge.search(args.text)
    print(f"decision: {result.decision}  top: {result.top}  confidence: {result.score:.3f}")
    # Ranked by the fused score; each entry's confidence is how sure the bot would be answering it alone,
    # which need not fall with the rank.
    for rank, candidate in enumerate(result.candidates[:5], start=1):
        entry = knowledge.entry(candidate.faq_id)
        print(f"  {rank}. confidence {candidate.score:.3f}  {candidate.faq_id}  {entry.title() if entry else ''}")
    return 0


def history(settings: Settings, args: argparse.Namespace) -> int:
    revisions = _repository(settings).history(args.faq_id)
    if not revisions:
        print(f"no history for {args.faq_id!r}", file=sys.stderr)
        return 1
    for rev in revisions:
        when = rev.created_at.strftime("%Y-%m-%d %H:%M")
        summary = plural(len(rev.entry.questions), "question") if rev.entry else "(removed)"
        print(f"r{rev.revision}\t{when}\t{rev.action}\t{rev.author}\t{summary}\t{rev.note or ''}")
    return 0


def rollback(settings: Settings, args: argparse.Namespace) -> int:
    repository = _repository(settings)
    try:
        entry = repository.rollback(args.faq_id, args.revision, author=args.author)
    except UnknownFaq as error:
        print(f"cannot roll back: {error}", file=sys.stderr)
        return 1
    _index(settings).upsert(entry)
    print(f"{args.faq_id} is back at the content of revision {args.revision}")
    return 0


def remove(settings: Settings, args: argparse.Namespace) -> int:
    try:
        _repository(settings).remove(args.faq_id, author=args.author)
    except UnknownFaq:
        print(f"no entry {args.faq_id!r}", file=sys.stderr)
        return 1
    _index(settings).remove(args.faq_id)
    print(f"removed {args.faq_id} (its history is kept; `kb rollback` restores it)")
    return 0


def _readable_batch(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    return path


def kb_tests(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when every saved test passes, 1 when one fails, 2 for a mistake in the command."""
    db = open_database(settings)
    tests = KbTests(db)
    if args.action == "add":
        if len(args.args) != 2:
            print('kb test add needs QUESTION FAQ_ID, e.g. kb test add "Where is my parcel?" shipping', file=sys.stderr)
            return 2
        question, faq_id = args.args
        if FaqRepository(db).get(faq_id) is None:
            print(f"no entry {faq_id!r}", file=sys.stderr)
            return 2
        try:
            test = tests.add(question, faq_id, args.author)
        except DuplicateTest as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"test {test.id}: {question!r} → {faq_id}")
        return 0
    if args.action == "delete":
        test_id = row_id(args.args[0]) if len(args.args) == 1 else None
        if test_id is None or not tests.remove(test_id):
            print("kb test delete needs the id of a saved test (see kb test list)", file=sys.stderr)
            return 2
        print(f"deleted test {test_id}")
        return 0
    saved = tests.all()
    if args.action == "list":
        for test in saved:
            print(f"{test.id}\t{test.expected_faq_id}\t{test.question}")
        return 0
    knowledge = _index(settings)
    knowledge.sync(_repository(settings).all(), progress=_progress)
    outcomes = run_tests(knowledge, saved)
    for outcome in outcomes:
        mark = "pass" if outcome.passed else "FAIL"
        got = f"{outcome.decision} {outcome.got or '-'} ({outcome.confidence:.2f})"
        print(f"{mark}\t{outcome.test.question}\texpected {outcome.test.expected_faq_id}, got {got}")
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"{passed} of {len(outcomes)} tests passed")
    return 0 if passed == len(outcomes) else 1
