"""The learning loop, measured: does the knowledge base get better from its own traffic once editors approve drafts?

    .venv/bin/python -m benchmarks.learning_loop_bench [--bench ../shared/bench] [--json OUT]

The shared runner's conversations (`conversations/run_conversations.py`, which defines every figure) are split in
two halves (even and odd positions, so both hold both languages). Two runs on fresh servers, identical except for
the approvals:

1. the first half is played through the real server's web chat (desk mode). Whenever the customer is offered
   "Did you mean…?" and the right entry is among the choices, the player presses it (the runner does this);
   the server records that pick as a pending wording draft. Every handoff opened is claimed by an agent on the
   console API: when the bot had not answered the customer's last question, the agent replies with that entry's
   answer (an agent who knows the KB) and resolves it, which proposes a draft as in production; otherwise the
   agent hands the conversation back to the bot.
2. *with the loop* only: an editor approves every pending draft through the staff app (`POST
   /staff/kb/drafts/approve`, a new entry through the entry form). The drafts are right by construction (the
   player only presses the expected entry; the agent sends the expected answer), so approving all of them stands
   for an editor who reads them.
3. the second half is played; its answer_ok and answer_direct are the figures, with and without the loop.

Standard library + the project; the conversations are read at run time, never copied into the repo.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

from storage.db import Database
from storage.staff_drafts import DraftRepository

REPO = Path(__file__).resolve().parents[1]
CANDIDATE_BENCHES = (REPO.parent / "shared" / "bench", REPO.parent.parent / "shared" / "bench")
FIGURES = ("answer_ok", "answer_direct", "answer_wrong", "answer_n", "turn_ok", "conversation_ok", "false_handoff")


def load_runner(bench: Path):
    path = bench / "conversations" / "run_conversations.py"
    spec = importlib.util.spec_from_file_location("run_conversations", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_conversations"] = module
    spec.loader.exec_module(module)
    return module


def run(runner, bench: Path, learn: bool) -> dict:
    folder = bench / "conversations"
    kb = runner.read_jsonl(folder / "pebble_kb.jsonl")
    conversations = runner.read_jsonl(folder / "pebble_conversations.jsonl")
    first, second = conversations[0::2], conversations[1::2]
    python = str(REPO / ".venv" / "bin" / "python")
    server = runner.Server(REPO, python, (folder / "pebble_kb.jsonl").resolve(), "desk")
    try:
        player = HandoffWatchingPlayer(runner, server, kb)
        first_rows = []
        for conversation in first:
            player.conversation = conversation
            first_rows += runner.play(player, conversation, "desk")
        answered = answer_handoffs(runner, server, player, kb, first_rows)
        database = Database(f"sqlite:///{server.tmp / 'data' / 'warmdesk.db'}")
        drafts = DraftRepository(database)
        pending = settled_drafts(drafts)
        approved = approve_all(runner, server, pending) if learn else 0
        player.latencies.clear()
        second_rows = [row for conversation in second for row in runner.play(player, conversation, "desk")]
        database.dispose()
    finally:
        server.stop()
    figures = runner.summarise(second_rows, player.latencies)
    first_figures = runner.summarise(first_rows, [])
    return {
        "second_half": {key: figures.get(key) for key in FIGURES},
        "first_half_answer_ok": first_figures.get("answer_ok"),
        "drafts": {
            "pending": len(pending),
            "wordings": sum(d.kind == "question" for d in pending),
            "from_picks": sum(d.source.startswith("clarify:") for d in pending),
            "from_agents": sum(d.source.startswith("handoff:") for d in pending),
            "approved": approved,
        },
        "handoffs_answered_by_agent": answered,
    }


class HandoffWatchingPlayer:
    """The runner's Player, also noting which conversation (and which of its turns) opened each handoff."""

    def __new__(cls, runner, server, kb):
        base = runner.Player

        class Watching(base):
            def __init__(self) -> None:
                super().__init__(server, kb)
                self.conversation: dict | None = None
                self.opened: dict[int, tuple[dict, int]] = {}
                self._turn = 0

            def observe(self, session, language, text, before):
                seen = super().observe(session, language, text, before)
                turn = next(
                    (i for i, t in enumerate(self.conversation["turns"]) if t["text"] == text),
                    self._turn,
                )
                if seen["handoffs_now"] is not None and before is not None:
                    for handoff_id in seen["handoffs_now"] - before:
                        self.opened[handoff_id] = (self.conversation, turn)
                return seen

        return Watching()


def answer_handoffs(runner, server, player, kb: list[dict], rows: list[dict]) -> int:
    """An agent claims every handoff of the first half and answers what the customer last asked about, when the
    bot had not answered it; otherwise the conversation goes back to the bot."""
    direct = {(row["conversation"], row["turn"]) for row in rows if row["outcome"] == "direct"}
    answers = {entry["id"]: entry for entry in kb}
    headers = {"Authorization": f"Bearer {runner.TOKEN}", "X-Agent-Name": "bench-agent"}
    base = server.base + "/agent/api/handoffs"
    answered = 0
    for handoff_id, (conversation, turn) in sorted(player.opened.items()):
        asked = [i for i, t in enumerate(conversation["turns"][: turn + 1]) if t["expect"] == "answer"]
        runner.http("POST", f"{base}/{handoff_id}/claim", {}, headers)
        if not asked or (conversation["id"], asked[-1]) in direct:
            runner.http("POST", f"{base}/{handoff_id}/resolve", {"outcome": "returned_to_bot"}, headers)
            continue
        entry = answers[conversation["turns"][asked[-1]]["faq"]]
        language = conversation["language"]
        text = entry.get(f"answer_{language}") or entry.get("answer")
        runner.http("POST", f"{base}/{handoff_id}/reply", {"text": text, "client_id": f"bench{handoff_id}"}, headers)
        runner.http("POST", f"{base}/{handoff_id}/resolve", {"outcome": "resolved"}, headers)
        answered += 1
    return answered


def settled_drafts(drafts: DraftRepository, quiet_for: float = 2.0, at_most: float = 60.0) -> list:
    """The pending drafts once the server's background recorder has caught up (no change for `quiet_for` s)."""
    started, last, since = time.monotonic(), None, time.monotonic()
    while time.monotonic() - started < at_most:
        now = [(d.id, d.count) for d in drafts.pending()]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            break
        time.sleep(0.2)
    return drafts.pending()


def approve_all(runner, server, pending: list) -> int:
    import urllib.parse
    import urllib.request

    approved = 0
    for draft in pending:
        if draft.kind == "question":
            fields = {"draft_id": draft.id}
            path = "/staff/kb/drafts/approve"
        else:
            answer_field = "answer_zh" if draft.language == "zh" else "answer_en"
            fields = {"id": f"traffic-{draft.id}", "questions": draft.question, answer_field: draft.answer}
            fields.update({"revision": 0, "draft_id": draft.id, "force": "true"})
            path = "/staff/kb/edit"
        request = urllib.request.Request(
            server.base + path,
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {runner.TOKEN}", "X-Agent-Name": "bench-editor"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                approved += response.status in (200, 303)
        except urllib.error.HTTPError as error:
            print(f"draft {draft.id} not approved: {error.code}", file=sys.stderr)
    return approved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, default=next((p for p in CANDIDATE_BENCHES if p.is_dir()), None))
    parser.add_argument("--json", type=Path, help="write both runs' figures here")
    args = parser.parse_args()
    if args.bench is None or not (args.bench / "conversations").is_dir():
        parser.error("no shared bench folder: give --bench")
    runner = load_runner(args.bench)
    results = {"without_loop": run(runner, args.bench, learn=False), "with_loop": run(runner, args.bench, learn=True)}
    print(json.dumps(results, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
