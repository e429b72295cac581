"""Import and export FAQ entries as JSONL, CSV or Markdown (picked by file extension).

JSONL (`.jsonl`): one entry per line,
    {"id": "...", "questions": ["...", ...], "answer": "...", "answer_zh": "...", "answer_en": "...", "tags": [...]}
    Only `id`, `questions` and at least one of the three answers are required.

CSV (`.csv`): a header row, then one row per question:
    id,question,answer,answer_zh,answer_en,tags
    Rows with the same id are merged into one entry (their questions are concatenated in order); answer
    and tag cells may be left empty on the extra rows. `tags` is separated by `|` or `,` within a cell.

Markdown (`.md`, `.markdown`):
    ## How do I reset my password?
    ## I forgot my password
    <!-- id: reset-password -->
    <!-- tags: account, login -->
    Open Settings > Security and choose "Reset password".

    Consecutive `##` headings are alternative questions of one entry. Optional `<!-- key: value -->`
    lines right under the headings set the id (default: a slug of the first question) and tags. The
    body is the answer; a body split into `### zh` / `### en` sub-sections (and optionally `### any`)
    gives per-language answers instead. Text before the first heading is ignored.

Loading validates everything first and returns every problem with its line number; by default an
import with any bad row yields no entries (pass `skip_bad=True` to keep the good ones).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.entry import FaqEntry

CSV_COLUMNS = ("id", "question", "answer", "answer_zh", "answer_en", "tags")
_MARKDOWN_SUFFIXES = (".md", ".markdown")
_ANSWER_FIELDS = ("answer", "answer_zh", "answer_en")


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One problem found while reading a file: `line` is 1-based (0 when it concerns the whole file)."""

    line: int
    message: str
    faq_id: str | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class ImportResult:
    entries: list[FaqEntry] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class UnsupportedFormat(ValueError):
    pass


def load_entries(path: Path | str, *, skip_bad: bool = False) -> ImportResult:
    """Read entries from `path`; the format follows the extension (.jsonl, .csv, .md)."""
    path = Path(path)
    fmt = format_for(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        return ImportResult(errors=[ImportIssue(0, f"file is not UTF-8: {error}")])
    return parse_entries(text, fmt, skip_bad=skip_bad)


def parse_entries(text: str, fmt: str, *, skip_bad: bool = False) -> ImportResult:
    """Parse `text` in format "jsonl", "csv" or "markdown"."""
    parsers = {"jsonl": _parse_jsonl, "csv": _parse_csv, "markdown": _parse_markdown}
    if fmt not in parsers:
        raise UnsupportedFormat(fmt)
    drafts, errors = parsers[fmt](text)
    entries = _merge_and_validate(drafts, errors)
    if errors and not skip_bad:
        entries = []
    errors.sort(key=lambda issue: issue.line)
    return ImportResult(entries=entries, errors=errors)


def write_entries(path: Path | str, entries: Iterable[FaqEntry]) -> None:
    """Write `entries` to `path` in the format its extension names."""
    path = Path(path)
    path.write_text(format_entries(list(entries), format_for(path)), encoding="utf-8")


def format_entries(entries: list[FaqEntry], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n" for entry in entries)
    if fmt == "csv":
        return _format_csv(entries)
    if fmt == "markdown":
        return _format_markdown(entries)
    raise UnsupportedFormat(fmt)


def format_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix in _MARKDOWN_SUFFIXES:
        return "markdown"
    raise UnsupportedFormat(f"unsupported FAQ file type {suffix!r} (use .jsonl, .csv or .md)")


# --- parsing ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """One record as read, before merging rows that share an id."""

    line: int
    id: str
    questions: list[str]
    answers: dict[str, str]
    tags: list[str]


def _parse_jsonl(text: str) -> tuple[list[_Draft], list[ImportIssue]]:
    drafts: list[_Draft] = []
    errors: list[ImportIssue] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            errors.append(ImportIssue(number, f"bad JSON: {error.msg} (column {error.colno})"))
            continue
        if not isinstance(data, dict):
            errors.append(ImportIssue(number, "each line must be a JSON object"))
            continue
        questions = data.get("questions", data.get("question"))
        if isinstance(questions, str):
            questions = [questions]
        if questions is not None and not (isinstance(questions, list) and all(isinstance(q, str) for q in questions)):
            errors.append(ImportIssue(number, "questions must be a list of strings", _text(data.get("id"))))
            continue
        tags = data.get("tags") or []
        if isinstance(tags, str):
            tags = _split_tags(tags)
        answers = {name: _text(data.get(name)) for name in _ANSWER_FIELDS}
        drafts.append(_Draft(number, _text(data.get("id")), list(questions or []), answers, [str(t) for t in tags]))
    return drafts, errors


def _parse_csv(text: str) -> tuple[list[_Draft], list[ImportIssue]]:
    drafts: list[_Draft] = []
    errors: list[ImportIssue] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        return drafts, errors
    except csv.Error as error:
        return drafts, [ImportIssue(1, f"bad CSV: {error}")]
    missing = [column for column in ("id", "question") if column not in header]
    if missing or not any(column in header for column in _ANSWER_FIELDS):
        needed = ", ".join(missing) or "an answer column"
        return drafts, [ImportIssue(1, f"header is missing {needed}; expected {','.join(CSV_COLUMNS)}")]
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(ImportIssue(line, f"bad CSV: {error}"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(ImportIssue(line, f"{len(row)} cells but the header has {len(header)}"))
            continue
        cells = dict(zip(header, row, strict=False))
        question = cells.get("question", "").strip()
        drafts.append(
            _Draft(
                line,
                cells.get("id", "").strip(),
                [question] if question else [],
                {name: cells.get(name, "").strip() for name in _ANSWER_FIELDS},
                _split_tags(cells.get("tags", "")),
            )
        )
    return drafts, errors


_HEADING = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_SUBHEADING = re.compile(r"^###(?!#)\s*(.*?)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*([a-z_]+)\s*:\s*(.*?)\s*-->\s*$", re.IGNORECASE)
_LANGUAGE_SECTIONS = {"zh": "answer_zh", "中文": "answer_zh", "en": "answer_en", "english": "answer_en"}


def _parse_markdown(text: str) -> tuple[list[_Draft], list[ImportIssue]]:
    drafts: list[_Draft] = []
    errors: list[ImportIssue] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines) and not _HEADING.match(lines[index]):
        index += 1
    while index < len(lines):
        start = index + 1
        questions: list[str] = []
        while index < len(lines) and (_HEADING.match(lines[index]) or not lines[index].strip()):
            match = _HEADING.match(lines[index])
            if match and match.group(1):
                questions.append(match.group(1))
            index += 1
        faq_id, tags = "", []
        while index < len(lines) and (_DIRECTIVE.match(lines[index]) or not lines[index].strip()):
            match = _DIRECTIVE.match(lines[index])
            if match:
                key, value = match.group(1).lower(), match.group(2)
                if key == "id":
                    faq_id = value
                elif key == "tags":
                    tags = _split_tags(value)
                else:
                    errors.append(ImportIssue(index + 1, f"unknown directive {key!r} (use id or tags)"))
            index += 1
        body_start = index
        while index < len(lines) and not _HEADING.match(lines[index]):
            index += 1
        answers = _markdown_answers(lines[body_start:index])
        faq_id = faq_id or _slug(questions[0] if questions else "")
        drafts.append(_Draft(start, faq_id, questions, answers, tags))
    return drafts, errors


def _markdown_answers(body: list[str]) -> dict[str, str]:
    sections: dict[str, list[str]] = {"answer": []}
    current = "answer"
    for line in body:
        match = _SUBHEADING.match(line)
        language = _LANGUAGE_SECTIONS.get(match.group(1).strip().lower()) if match else None
        if match and (language or match.group(1).strip().lower() in ("any", "default")):
            current = language or "answer"
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(line)
    return {name: "\n".join(part).strip() for name, part in sections.items()}


def _merge_and_validate(drafts: list[_Draft], errors: list[ImportIssue]) -> list[FaqEntry]:
    """Merge drafts sharing an id (CSV rows), check each entry, keep the good ones in file order.

    A later record whose answer contradicts an earlier one with the same id is the bad row; the first stays.
    """
    merged: dict[str, FaqEntry] = {}
    first_line: dict[str, int] = {}
    for draft in drafts:
        questions = [q.strip() for q in draft.questions if q and q.strip()]
        if not draft.id:
            errors.append(ImportIssue(draft.line, "missing id"))
            continue
        if draft.id not in merged:
            entry = FaqEntry(draft.id, questions, tags=list(draft.tags))
            for name, value in draft.answers.items():
                setattr(entry, name, value or None)
            merged[draft.id] = entry
            first_line[draft.id] = draft.line
            continue
        entry = merged[draft.id]
        conflicts = [
            name
            for name, value in draft.answers.items()
            if value and getattr(entry, name) and getattr(entry, name) != value
        ]
        if conflicts:
            errors.append(
                ImportIssue(
                    draft.line,
                    f"duplicate id {draft.id!r} (first on line {first_line[draft.id]}) with a different {conflicts[0]}",
                    draft.id,
                )
            )
            continue
        for name, value in draft.answers.items():
            if value and not getattr(entry, name):
                setattr(entry, name, value)
        entry.questions.extend(q for q in questions if q not in entry.questions)
        entry.tags.extend(t for t in draft.tags if t not in entry.tags)
    entries: list[FaqEntry] = []
    for faq_id, entry in merged.items():
        line = first_line[faq_id]
        problems = []
        if not entry.questions:
            problems.append("no questions")
        if not any(getattr(entry, name) for name in _ANSWER_FIELDS):
            problems.append("no answer (answer, answer_zh or answer_en)")
        for problem in problems:
            errors.append(ImportIssue(line, f"entry {faq_id!r} has {problem}", faq_id))
        if not problems:
            entry.questions = list(dict.fromkeys(entry.questions))
            entries.append(entry)
    return entries


# --- writing ----------------------------------------------------------------------------------------


def _format_csv(entries: list[FaqEntry]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        for position, question in enumerate(entry.questions):
            first = position == 0
            writer.writerow(
                [
                    entry.id,
                    question,
                    (entry.answer or "") if first else "",
                    (entry.answer_zh or "") if first else "",
                    (entry.answer_en or "") if first else "",
                    "|".join(entry.tags) if first else "",
                ]
            )
    return buffer.getvalue()


def _format_markdown(entries: list[FaqEntry]) -> str:
    blocks: list[str] = []
    for entry in entries:
        lines = [f"## {_one_line(q)}" for q in entry.questions]
        lines.append(f"<!-- id: {entry.id} -->")
        if entry.tags:
            lines.append(f"<!-- tags: {', '.join(entry.tags)} -->")
        lines.append("")
        languages = [(name, getattr(entry, name)) for name in ("answer_zh", "answer_en")]
        if any(value for _, value in languages):
            if entry.answer:
                lines += ["### any", entry.answer.strip(), ""]
            for name, value in languages:
                if value:
                    lines += [f"### {name.removeprefix('answer_')}", value.strip(), ""]
        else:
            lines += [(entry.answer or "").strip(), ""]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


# --- helpers ----------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _split_tags(cell: str) -> list[str]:
    return [tag.strip() for tag in re.split(r"[|,]", cell or "") if tag.strip()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")
    return slug[:60] or "entry"
