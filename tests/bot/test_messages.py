"""The core's inbound message only carries text a database can store."""

from __future__ import annotations

from bot.messages import InboundMessage, storable


def test_lone_surrogates_become_replacement_characters_and_nul_is_dropped():
    assert storable("a\ud800b\x00c 😀 中文") == "a\ufffdbc 😀 中文"


def test_an_inbound_message_is_storable_from_the_start():
    message = InboundMessage("telegram", "1", "hi \x00\udc00", display_name="Ann\ud800")
    assert (message.text, message.display_name) == ("hi \ufffd", "Ann\ufffd")
