"""The business file: every text the bot says to customers and the rules a business tunes, in one TOML file.

The bundled default (`bot/data/business.toml`) holds every key. A business's own file (WARMDESK_BUSINESS_FILE)
is laid over it, so it only needs the lines it changes. Each feature reads its own section with `section()`
and validates it itself; this module only checks what is common to all: the file parses, every section and
text key it names exists in the default, and every text keeps to its default's {placeholders}.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "business.toml"


class BusinessFileError(ValueError):
    """The business file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class BusinessFile:
    data: dict[str, Any]
    path: Path | None = None  # the business's own file, None when only the default is used

    def section(self, name: str) -> dict[str, Any]:
        """A top-level table, defaults included (empty when neither file has it)."""
        value = self.data.get(name, {})
        return value if isinstance(value, dict) else {}

    def texts(self) -> dict[str, dict[str, str]]:
        return {language: dict(texts) for language, texts in self.section("texts").items()}


def load_business_file(path: Path | None = None) -> BusinessFile:
    defaults = _read(DEFAULT_FILE)
    if path is None:
        return BusinessFile(defaults)
    path = path.expanduser()
    own = _read(path)
    _check_against(own, defaults, path)
    return BusinessFile(_overlay(defaults, own), path)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError as error:
        raise BusinessFileError(f"business file {path} does not exist (WARMDESK_BUSINESS_FILE)") from error
    except OSError as error:
        raise BusinessFileError(f"business file {path} cannot be read ({error.strerror})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise BusinessFileError(f"business file {path} is not valid TOML: {error}") from error


def _check_against(own: dict[str, Any], defaults: dict[str, Any], path: Path) -> None:
    for name in own:
        if name not in defaults:
            raise BusinessFileError(f"{path}: unknown section [{name}] (known: {', '.join(sorted(defaults))})")
    for language, texts in own.get("texts", {}).items():
        known = defaults["texts"].get(language)
        if known is None:
            raise BusinessFileError(
                f"{path}: [texts.{language}] is not a language the bot speaks ({', '.join(defaults['texts'])})"
            )
        if not isinstance(texts, dict):
            raise BusinessFileError(f'{path}: [texts.{language}] must be a table of key = "text" lines')
        for key, text in texts.items():
            where = f"{path}: texts.{language}.{key}"
            if key not in known:
                raise BusinessFileError(f"{where} is not a text the bot uses")
            if not isinstance(text, str) or not text.strip():
                raise BusinessFileError(f"{where} must be a non-empty string")
            try:
                extra = placeholders(text) - placeholders(known[key])
            except ValueError as error:
                raise BusinessFileError(f"{where}: {error} (write {{{{ and }}}} for literal braces)") from error
            if extra:
                allowed = ", ".join("{" + p + "}" for p in sorted(placeholders(known[key]))) or "none"
                raise BusinessFileError(
                    f"{where} uses {', '.join('{' + p + '}' for p in sorted(extra))}; allowed: {allowed}"
                )


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        merged[key] = (
            _overlay(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        )
    return merged
