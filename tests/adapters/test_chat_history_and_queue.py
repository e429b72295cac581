"""Over real HTTP: a web chat that comes back gets its conversation and state from the server, and the agent
console's queue, detail and buttons say what an agent needs (who, where, how long, what they may do now)."""

from __future__ import annotations

import httpx

from tests.handoff.live import WebCustomer, agent_client

REFUND = "How long does a refund take to reach my card?"
ANGRIER = "This is ridiculous!!! Nobody answers me, terrible service, I want my money back NOW!!!"


def history(customer: WebCustomer) -> dict:
    response = customer.http.get("/api/chat/history", params={"session_id": customer.session_id})
    assert response.status_code == 200
    return response.json()


def open_handoff(customer: WebCustomer, runtime) -> int:
    assert customer.say("I want to talk to a human")["replies"][0]["kind"] == "handoff"
    return max(h.id for h in runtime.handoff.repository.queue() if h.status == "requested")


def test_a_returning_chat_gets_its_conversation_state_and_the_agents_name_not_an_id(handoff_server):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    customer.say(REFUND)
    handoff_id = open_handoff(customer, runtime)

    back = history(customer)
    assert [(line["role"], line["kind"]) for line in back["lines"]] == [
        ("customer", None),
        ("bot", "answer"),
        ("customer", None),
        ("bot", "handoff"),
    ]
    assert back["lines"][0]["text"] == REFUND and "business days" in back["lines"][1]["text"]
    assert back["state"] == "waiting_agent" and back["agent_name"] is None
    assert history(WebCustomer(live.url))["lines"] == []  # another session reads nothing of this one

    ann = agent_client(live.url, "Ann Lee")
    assert ann.post(f"/handoffs/{handoff_id}/claim").json()["ok"]
    assert ann.post(f"/handoffs/{handoff_id}/reply", json={"text": "Hi, Ann here.", "client_id": "h1"}).json()["ok"]
    customer.cursor = back["cursor"]  # the page polls from where the history ended: nothing shown twice
    texts = [u["text"] for u in customer.wait_for_updates(2)]
    assert texts == ["A person from our team has joined the conversation.", "Hi, Ann here."]
    state = customer.http.get("/api/chat/updates", params={"session_id": customer.session_id}).json()
    assert (state["state"], state["agent_name"]) == ("agent", "Ann Lee")

    again = history(customer)
    assert [line["role"] for line in again["lines"][-2:]] == ["system", "agent"]
    assert again["agent_name"] == "Ann Lee" and "console:" not in str(again)
    assert again["cursor"] >= customer.cursor


def test_history_and_updates_refuse_bad_input_with_a_4xx(handoff_server):
    live, _ = handoff_server
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for params in (
            {"session_id": "x"},
            {"session_id": "../../etc/passwd"},
            {"session_id": "a" * 65},
            {"session_id": "goodsession1", "language": "fr"},
        ):
            assert http.get("/api/chat/history", params=params).status_code == 422
        for after in (str(2**70), "-1", "ten"):
            response = http.get("/api/chat/updates", params={"session_id": "goodsession1", "after": after})
            assert response.status_code == 422
        fresh = http.get("/api/chat/history", params={"session_id": "neverseen123"}).json()
        assert (fresh["lines"], fresh["state"], fresh["cursor"]) == ([], "bot", 0)


def test_a_chinese_customer_gets_the_pages_words_in_chinese(handoff_server):
    live, _ = handoff_server
    customer = WebCustomer(live.url)
    customer.say("发票怎么开？")
    back = history(customer)
    assert back["language"] == "zh"
    assert (back["texts"]["chat_send"], back["texts"]["chat_placeholder"]) == ("发送", "请输入您的问题")
    english = customer.http.get("/api/chat/welcome", params={"language": "en"}).json()["texts"]
    assert english["chat_send"] == "Send" and "{limit}" in english["chat_too_long"]


def test_queue_rows_name_customer_channel_language_wait_and_last_message_and_tabs_split_open_from_resolved(
    handoff_server,
):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    customer.say(REFUND)
    handoff_id = open_handoff(customer, runtime)
    ann = agent_client(live.url, "ann")

    row = next(h for h in ann.get("/handoffs", params={"tab": "open"}).json()["handoffs"] if h["id"] == handoff_id)
    assert (row["channel"], row["language"], row["status"]) == ("web", "en", "requested")
    assert row["customer_name"] == f"Customer #{row['customer_id']}" and row["wait_seconds"] >= 0
    # what a person said last, not the bot's automatic lines
    assert row["last_message"]["role"] == "customer" and row["last_message"]["text"] == "I want to talk to a human"

    assert ann.post(f"/handoffs/{handoff_id}/resolve", json={"outcome": "resolved"}).json()["ok"]
    open_ids = [h["id"] for h in ann.get("/handoffs", params={"tab": "open"}).json()["handoffs"]]
    resolved_ids = [h["id"] for h in ann.get("/handoffs", params={"tab": "resolved"}).json()["handoffs"]]
    assert handoff_id not in open_ids and handoff_id in resolved_ids
    assert handoff_id in [h["id"] for h in ann.get("/handoffs").json()["handoffs"]]  # no tab: both, as before
    assert ann.get("/handoffs", params={"tab": "everything"}).status_code == 422


def test_the_summary_follows_the_conversation_after_the_handoff(handoff_server):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    handoff_id = open_handoff(customer, runtime)
    ann = agent_client(live.url, "ann")
    before = ann.get(f"/handoffs/{handoff_id}").json()["summary"]
    assert "ridiculous" not in before
    customer.say(ANGRIER)
    detail = ann.get(f"/handoffs/{handoff_id}").json()
    assert "ridiculous" in detail["summary"]
    customer_lines = [line for line in detail["transcript"] if line["role"] == "customer"]
    assert customer_lines[-1]["emotion"] == "anger" and customer_lines[-1]["at"]
    who_line = next(line for line in detail["summary"].splitlines() if "emotion" in line)
    assert len(who_line.rsplit("emotion ", 1)[1].strip()) == 2  # one sparkline bar per customer message


def test_buttons_follow_the_state_and_a_long_reply_or_help_without_slack_are_refused_readably(handoff_server):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    handoff_id = open_handoff(customer, runtime)
    ann, bob = agent_client(live.url, "ann"), agent_client(live.url, "bob")

    def enabled(client) -> dict[str, bool]:
        return {name: b["enabled"] for name, b in client.get(f"/handoffs/{handoff_id}").json()["actions"].items()}

    assert enabled(ann) == {
        "claim": True, "take_over": False, "reply": True, "resolve": True, "return": True, "help": False,
    }  # fmt: skip
    assert ann.post(f"/handoffs/{handoff_id}/claim").json()["ok"]
    assert enabled(ann) | {"help": None} == {
        "claim": False, "take_over": False, "reply": True, "resolve": True, "return": True, "help": None,
    }  # fmt: skip
    seen_by_bob = bob.get(f"/handoffs/{handoff_id}").json()["actions"]
    assert not seen_by_bob["claim"]["enabled"] and seen_by_bob["take_over"]["enabled"]
    assert not seen_by_bob["resolve"]["enabled"] and "ann" in seen_by_bob["resolve"]["reason"]

    long = ann.post(f"/handoffs/{handoff_id}/reply", json={"text": "x" * 4100, "client_id": "long"})
    assert long.status_code == 422 and long.json()["outcome"] == "too_long" and "4000" in long.json()["message"]
    helped = ann.post(f"/handoffs/{handoff_id}/help")
    assert helped.status_code == 409 and "Slack" in helped.json()["message"]
    assert "Slack" in ann.get(f"/handoffs/{handoff_id}").json()["actions"]["help"]["reason"]

    assert ann.post(f"/handoffs/{handoff_id}/resolve", json={"outcome": "resolved"}).json()["ok"]
    assert not any(enabled(ann).values())
    assert customer.wait_for_updates(2)[0]["kind"] == "agent_joined"  # the 4,100 characters never reached them
