"""An agent's Slack message as the customer reads it: Slack's markup becomes plain text."""

from __future__ import annotations

import pytest

from adapters.slack_blocks import unescape


@pytest.mark.parametrize(
    ("slack", "customer_reads"),
    [
        ("see <https://example.com/returns|our returns page>", "see our returns page (https://example.com/returns)"),
        ("<https://example.com>", "https://example.com"),
        ("mail <mailto:help@example.com|help@example.com>", "mail help@example.com"),
        ("ask <@U999> or <#C1|billing>", "ask @U999 or #billing"),
        ("<!here> <!subteam^S1|@billing-team>", "@here @billing-team"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("退款 3-5 个工作日到账", "退款 3-5 个工作日到账"),
    ],
)
def test_slack_markup_becomes_plain_text(slack, customer_reads):
    assert unescape(slack) == customer_reads
