"""Staff pages read the same in both languages: every text exists in English and Chinese with the same blanks."""

from __future__ import annotations

import string

from adapters.staff.texts import STAFF_TEXTS


def blanks(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_staff_text_has_both_languages_with_the_same_placeholders():
    english, chinese = STAFF_TEXTS["en"], STAFF_TEXTS["zh"]
    assert english.keys() == chinese.keys()
    assert {key for key in english if blanks(english[key]) != blanks(chinese[key])} == set()
