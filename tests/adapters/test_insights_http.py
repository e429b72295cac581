"""The insights endpoints in the real app on a real port: a customer's web chat shows up in the manager's
figures and CSV export, only with the token."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from bot.runtime import Runtime
from bot.settings import Settings
from tests.adapters.conftest import LiveServer

TOKEN = "insights-e2e-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    runtime = Runtime.open(Settings(data_dir=tmp_path_factory.mktemp("insights-data"), agent_token=TOKEN))
    with LiveServer(runtime) as live:
        yield live
    runtime.close()


def test_a_web_chat_question_appears_in_the_managers_figures_and_export(server):
    today = datetime.now(UTC).date().isoformat()
    manager = {"authorization": f"Bearer {TOKEN}", "x-agent-name": "mia"}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        sid = uuid.uuid4().hex
        chat = http.post("/api/chat", json={"session_id": sid, "message_id": "q1", "text": "我的快递到哪了？"})
        assert chat.status_code == 200
        assert http.get("/staff/api/insights/volume.json").status_code == 401
        volume = http.get("/staff/api/insights/volume.json", params={"from": today, "to": today}, headers=manager)
        assert volume.status_code == 200
        assert volume.json()["summary"]["zh"]["messages_in"] == 1
        assert volume.json()["summary"]["all"]["conversations"] == 1
        export = http.get("/staff/api/insights/messages.csv", params={"from": today, "to": today}, headers=manager)
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert (rows[0]["direction"], rows[0]["language"]) == ("in", "zh")
        assert rows[0]["text"] == "我的快递到哪了？"
