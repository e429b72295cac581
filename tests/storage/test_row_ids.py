"""Ids typed or sent from outside (Slack button values, `#12` lookups, rating choices) become row ids safely."""

from __future__ import annotations

import pytest

from storage.customers import CustomerRepository
from storage.db import MAX_ROW_ID, row_id


@pytest.mark.parametrize(("text", "expected"), [("12", 12), (str(MAX_ROW_ID), MAX_ROW_ID), ("007", 7)])
def test_ascii_digits_that_fit_are_row_ids(text, expected):
    assert row_id(text) == expected


@pytest.mark.parametrize("text", ["", "-1", "1.0", "²", "١", "12 ", str(MAX_ROW_ID + 1), "9" * 30])
def test_anything_else_is_not(text):
    assert row_id(text) is None


def test_a_lookup_by_a_huge_number_finds_nobody(database):
    assert CustomerRepository(database).find("#" + "9" * 30) == []
