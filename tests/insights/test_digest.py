"""The weekly digest on the hand-made history (week [11-09, 11-16) against [11-02, 11-09)), its Slack blocks,
posting with the real slack-sdk client to the local fake Slack API, and `run.py insights` on the command line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

import run
from adapters.slack_digest import digest_blocks, post_digest
from bot.insights import Insights
from bot.insights.digest import cluster_unanswered, weekly_digest
from storage.db import Database
from storage.emotions import EmotionStore
from storage.models import Message
from tests.handoff.slack_api import SlackApiRecorder
from tests.insights import fixture

END = datetime(2026, 11, 16, tzinfo=UTC)


def add_unanswered(database, made, *texts: str) -> None:
    with database.session() as session:
        for minute, text in enumerate(texts):
            session.add(
                Message(conversation_id=made.conversations["c4"], customer_id=made.customers["C"], direction="in",
                        platform="web", text=text, language="en", decision="no_answer", emotion_label="neutral",
                        created_at=fixture.at(13, 9, minute))
            )  # fmt: skip


@pytest.fixture
def made(database):
    made = fixture.build(database)
    EmotionStore(database).flag_at_risk(made.conversations["c5"])
    add_unanswered(database, made, "Do you ship to Norway?", "Is shipping to Norway possible?")
    return made


def test_the_digest_compares_the_week_with_the_last_and_names_topics_risks_and_gaps(database, made):
    digest = weekly_digest(Insights(database), END)
    changes = {c.name: (c.this_week, c.last_week) for c in digest.changes}
    assert changes["conversations"] == (3, 2)  # c3, c4, c5 against c1, c2
    assert changes["customer_messages"] == (7, 7)  # m13 m15 m16 m18 m19 + the two above / m1 m3 m5 m6 m7 m9 m11
    assert changes["csat"] == (0.0, 1.0)  # h2 rated 2 / h1 rated 5
    assert changes["handoff_rate"] == (0.3333, 0.5)
    # negative with a topic this week: m13 (hours); m15 and m19 have none
    assert [(t.label, t.count, t.examples) for t in digest.frustration_topics] == [("hours", 1, ["answer hours anger"])]
    assert [(c.name, c.channels) for c in digest.at_risk_customers] == [("Carl", ("telegram", "web"))]
    assert (digest.unanswered_clusters[0].label, digest.unanswered_clusters[0].count) == ("norway", 2)


def test_unanswered_questions_cluster_by_their_shared_words_in_both_languages():
    clusters = cluster_unanswered(["怎么申请发票", "发票抬头写错了", "发票什么时候寄出", "Where is the nearest store?"])
    assert (clusters[0].label, clusters[0].count) == ("发票", 3)
    assert clusters[1].count == 1


def test_the_digest_is_posted_to_the_slack_channel_with_the_real_client(database, made):
    slack = SlackApiRecorder().start()
    try:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        ts = post_digest(client, "C-MANAGERS", weekly_digest(Insights(database), END), "zh")
    finally:
        slack.stop()
    (posted,) = slack.named("chat.postMessage")
    assert posted["channel"] == "C-MANAGERS" and ts
    assert posted["blocks"][0]["text"]["text"] == "每周摘要 2026-11-09 – 2026-11-16"
    text = "\n".join(b["text"]["text"] for b in posted["blocks"] if "text" in b)
    assert "*hours*" in text and "Carl" in text and "norway" in text


def test_customer_text_in_the_digest_cannot_mention_the_channel(database, made):
    add_unanswered(database, made, "<!channel> where is my refund", "<!channel> refund please")
    blocks = digest_blocks(weekly_digest(Insights(database), END))
    text = "\n".join(b["text"]["text"] for b in blocks if "text" in b)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path / "data"))
    db = Database(f"sqlite:///{tmp_path / 'data' / 'warmdesk.db'}")
    db.migrate()
    fixture.build(db)
    db.dispose()
    return tmp_path / "data"


def test_cli_exports_a_figure_and_the_messages(data_dir, tmp_path, capsys):
    out = tmp_path / "resolution.json"
    assert (
        run.main(["insights", "export", "resolution", "--from", "2026-11-02", "--to", "2026-11-15", "--out", str(out)])
        == 0
    )
    assert '"resolution_rate": 0.2727' in out.read_text(encoding="utf-8")
    messages = tmp_path / "messages.csv"
    assert run.main(["insights", "export", "messages", "--from", "2026-11-02", "--to", "2026-11-15", "--language", "zh",
                     "--out", str(messages)]) == 0  # fmt: skip
    assert len(messages.read_text(encoding="utf-8").splitlines()) == 1 + 9


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["insights", "export", "nope", "--out", "x.csv"], "no figure 'nope'"),
        (["insights", "export", "volume", "--from", "soon", "--out", "x.csv"], "not a date"),
        (["insights", "export", "messages", "--out", "x.json"], "CSV only"),
        (["insights", "export", "volume", "--out", "/no/such/folder/x.csv"], "no folder"),
        (["insights", "digest", "--post"], "needs SLACK_BOT_TOKEN and WARMDESK_DIGEST_SLACK_CHANNEL"),
    ],
)
def test_cli_mistakes_are_one_line_and_exit_2(data_dir, capsys, monkeypatch, argv, says):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert run.main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1


def test_cli_digest_posts_to_the_configured_channel(data_dir, monkeypatch, capsys):
    slack = SlackApiRecorder().start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_BASE_URL", slack.base_url)
    monkeypatch.setenv("WARMDESK_DIGEST_SLACK_CHANNEL", "C-MANAGERS")
    try:
        assert run.main(["insights", "digest", "--to", "2026-11-15", "--post"]) == 0
    finally:
        slack.stop()
    assert slack.named("chat.postMessage")[0]["channel"] == "C-MANAGERS"
    assert "posted the digest to C-MANAGERS" in capsys.readouterr().out


def test_cli_rollup_fills_the_rollups_once_and_the_figures_stay_the_hand_counted_ones(data_dir, tmp_path, capsys):
    assert run.main(["insights", "rollup"]) == 0
    assert "13 questions" in capsys.readouterr().out  # every question of A, B and C (D was forgotten)
    assert run.main(["insights", "rollup"]) == 0
    assert "up to date" in capsys.readouterr().out
    out = tmp_path / "resolution.json"
    assert (
        run.main(["insights", "export", "resolution", "--from", "2026-11-02", "--to", "2026-11-15", "--out", str(out)])
        == 0
    )
    assert '"resolution_rate": 0.2727' in out.read_text(encoding="utf-8")  # now read from the rollup
