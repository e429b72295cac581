"""Reading a customer file (CSV or JSONL) for `run.py customer import`, validated line by line.

CSV: one row per order, the customer's columns repeated (a row without order columns is a customer without
orders). Columns: external_id (required), name, phone, email, account_manager, language, order_id, order_date,
amount. JSONL: one customer per line, `{"external_id": ..., "name": ..., "orders": [{"id", "date", "amount"}]}`.
Every problem is reported with its line number, the way `kb import` does; by default nothing is imported when
there is one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knowledge.io import ImportIssue

CUSTOMER_FIELDS = ("external_id", "name", "phone", "email", "account_manager", "language")
ORDER_FIELDS = ("order_id", "order_date", "amount")
MAX_FIELD_CHARS = 200
MAX_AMOUNT = 1e12
_PHONE = re.compile(r"^\+?[0-9][0-9 \-()]{4,30}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UnsupportedCustomerFile(ValueError):
    pass


@dataclass(slots=True)
class ImportedOrder:
    external_id: str
    ordered_at: datetime
    amount: float


@dataclass(slots=True)
class ImportedCustomer:
    external_id: str
    line: int
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    account_manager: str | None = None
    language: str | None = None
    orders: dict[str, ImportedOrder] = field(default_factory=dict)


@dataclass(slots=True)
class CustomerFile:
    customers: list[ImportedCustomer] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)


def read_customer_file(path: Path) -> CustomerFile:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise UnsupportedCustomerFile(f"{path}: unsupported file type {suffix or '(none)'}; use .csv or .jsonl")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise UnsupportedCustomerFile(f"{path}: no such file") from error
    except UnicodeDecodeError:
        return CustomerFile(errors=[ImportIssue(0, "file is not UTF-8")])
    except OSError as error:
        raise UnsupportedCustomerFile(f"{path}: cannot be read ({error.strerror})") from error
    rows = _csv_rows(text) if suffix == ".csv" else _jsonl_rows(text)
    result, by_id = CustomerFile(), {}
    for line, row, problem in rows:
        if problem:
            result.errors.append(ImportIssue(line, problem))
            continue
        try:
            _merge(by_id, line, row)
        except ValueError as error:
            result.errors.append(ImportIssue(line, str(error)))
    result.customers = list(by_id.values())
    return result


def _csv_rows(text: str):
    reader = csv.DictReader(io.StringIO(text))
    names = [name.strip().lower() for name in reader.fieldnames or []]
    if "external_id" not in names:
        yield 1, None, "the header must name an external_id column"
        return
    unknown = sorted(set(names) - set(CUSTOMER_FIELDS) - set(ORDER_FIELDS))
    if unknown:
        yield 1, None, f"unknown column(s): {', '.join(unknown)}"
        return
    reader.fieldnames = names
    for row in reader:
        line = reader.line_num
        if None in row:
            yield line, None, "more values than columns"
            continue
        values = {key: (value or "").strip() for key, value in row.items()}
        order = None
        if any(values.get(key) for key in ORDER_FIELDS):
            order = {"id": values.get("order_id"), "date": values.get("order_date"), "amount": values.get("amount")}
        customer = {key: values.get(key) or None for key in CUSTOMER_FIELDS}
        yield line, {**customer, "orders": [order] if order else []}, None


def _jsonl_rows(text: str):
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as error:
            yield line, None, f"not valid JSON ({error.msg})"
            continue
        if not isinstance(row, dict):
            yield line, None, "each line must be a JSON object"
            continue
        unknown = sorted(set(row) - set(CUSTOMER_FIELDS) - {"orders"})
        if unknown:
            yield line, None, f"unknown field(s): {', '.join(unknown)}"
            continue
        if not isinstance(row.get("orders", []), list):
            yield line, None, "orders must be a list"
            continue
        yield line, row, None


def _merge(by_id: dict[str, ImportedCustomer], line: int, row: dict[str, Any]) -> None:
    external_id = _text(row.get("external_id"), "external_id", required=True)
    values = {key: _text(row.get(key), key) for key in CUSTOMER_FIELDS[1:]}
    if values["phone"] and not _PHONE.match(values["phone"]):
        raise ValueError(f"phone {values['phone']!r} is not a phone number")
    if values["email"] and not _EMAIL.match(values["email"]):
        raise ValueError(f"email {values['email']!r} is not an email address")
    if values["language"] and values["language"] not in ("en", "zh"):
        raise ValueError("language must be en or zh")
    orders = [_order(order) for order in row.get("orders") or []]
    customer = by_id.get(external_id)
    if customer is None:
        customer = by_id[external_id] = ImportedCustomer(external_id, line)
    for key, value in values.items():
        if value is not None:
            setattr(customer, key, value)
    for order in orders:
        customer.orders[order.external_id] = order


def _order(order: Any) -> ImportedOrder:
    if not isinstance(order, dict):
        raise ValueError("each order must be an object with id, date and amount")
    order_id = _text(order.get("id"), "order id", required=True)
    date_text = _text(order.get("date"), "order date", required=True)
    try:
        ordered_at = datetime.fromisoformat(date_text)
    except ValueError as error:
        raise ValueError(f"order {order_id}: date {date_text!r} is not a date like 2026-03-01") from error
    ordered_at = ordered_at if ordered_at.tzinfo else ordered_at.replace(tzinfo=UTC)
    try:
        amount = float(order.get("amount"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"order {order_id}: amount {order.get('amount')!r} is not a number") from error
    if not math.isfinite(amount) or not 0 <= amount <= MAX_AMOUNT:
        raise ValueError(f"order {order_id}: amount must be between 0 and {MAX_AMOUNT:.0f}")
    return ImportedOrder(order_id, ordered_at.astimezone(UTC), amount)


def _text(value: Any, name: str, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name} must be text")
    text = str(value).strip().replace("\x00", "")
    if len(text) > MAX_FIELD_CHARS:
        raise ValueError(f"{name} is longer than {MAX_FIELD_CHARS} characters")
    return text
