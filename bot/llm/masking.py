"""Personal data masked before text leaves the machine ([PHONE_1], [EMAIL_1], [ORDER_1]) and put back in the reply."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KINDS = (
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    # order numbers: a digit run of 6+ next to an order word, or letters+digits such as PB20240517001
    ("ORDER", re.compile(r"(?i)(?<=order[ #:：])\s*#?\d{5,}|(?<=订单号)[:：\s]*\d{5,}|\b[A-Z]{1,4}\d{8,}\b")),
    (
        "PHONE",
        re.compile(r"(?<![\w])(?:\+?\d{1,3}[ -]?)?(?:1[3-9]\d{9}|\d{3,4}[ -]\d{3,4}[ -]?\d{3,4}|\d{10,11})(?![\w])"),
    ),
)


@dataclass(slots=True)
class Masker:
    """One message's masking: the same value gets the same placeholder in every text masked with it."""

    enabled: bool = True
    values: dict[str, str] = field(default_factory=dict)  # placeholder → original

    def mask(self, text: str) -> str:
        if not self.enabled:
            return text
        for kind, pattern in _KINDS:
            text = pattern.sub(lambda m, kind=kind: self._placeholder(kind, m.group(0)), text)
        return text

    def unmask(self, text: str) -> str:
        for placeholder, original in self.values.items():
            text = text.replace(placeholder, original)
        return text

    def _placeholder(self, kind: str, value: str) -> str:
        stripped = value.strip(" #:：")
        for placeholder, original in self.values.items():
            if original == stripped:
                return value.replace(stripped, placeholder)
        count = sum(1 for p in self.values if p.startswith(f"[{kind}_")) + 1
        placeholder = f"[{kind}_{count}]"
        self.values[placeholder] = stripped
        return value.replace(stripped, placeholder)
