"""The CLI's file adapter: read customers, orders or events from CSV or JSONL, import via services.

The format follows the file's extension (.csv, or .jsonl / .ndjson). JSONL lines are the
services' own row shapes. CSV columns (a header row is required, empty cells mean "not given"):

- customers: first_name, last_name, email, phone, language, country, city, segments (separated
  by ";"), external_id ("system:id", such as "shopify:1042"); a row needs an email, phone or
  external_id.
- orders: one row per order line, grouped by external_id: external_id, customer_email or
  customer_id, channel (web, app, store, phone), store, country, placed_at (ISO 8601 with a
  timezone), currency, sku, quantity, unit_price, and optionally payment_method (a payment of
  the order total at placed_at). Order columns must agree on every line of one order.
- events: event_id, customer_id or customer_email, anonymous_id, session_id, touchpoint (key),
  type, timestamp (ISO 8601 with a timezone), device, properties (a JSON object).

In JSONL, orders and events may name the customer by "customer_email" instead of "customer_id".
A file is imported whole or not at all: every bad row is reported with its line number and
field, and nothing is written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from opencx.commerce import service as commerce_service
from opencx.customers import service as customers_service
from opencx.customers.models import IdentityKind
from opencx.errors import InvalidInput
from opencx.journeys import service as journeys_service
from opencx.settings import get_settings

KINDS = ("customers", "orders", "events")
ORDER_COLUMNS = (
    "external_id",
    "customer_id",
    "channel",
    "store",
    "country",
    "placed_at",
    "currency",
)
ORDER_LINE_COLUMNS = ("sku", "quantity", "unit_price")
CSV_COLUMNS = {
    "customers": {"first_name", "last_name", "email", "phone", "language", "country", "city",
                  "segments", "external_id"},
    "orders": {*ORDER_COLUMNS, *ORDER_LINE_COLUMNS, "customer_email", "payment_method"},
    "events": {"event_id", "customer_id", "customer_email", "anonymous_id", "session_id",
               "touchpoint", "type", "timestamp", "device", "properties"},
}  # fmt: skip


@dataclass(frozen=True)
class FileError:
    """A problem in the file: its line number (the header is line 1), the field and why."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field or 'row'}: {self.reason}"


@dataclass
class FileImportReport:
    kind: str
    received: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: list[FileError] = field(default_factory=list)


class ImportRejected(Exception):
    """The file has bad rows; raised inside the transaction so nothing is written."""

    def __init__(self, report: FileImportReport) -> None:
        super().__init__(f"{len(report.errors)} bad rows")
        self.report = report


@dataclass
class _Row:
    line: int
    data: dict[str, Any]
    # CSV column behind each field of the service row, to name what the user wrote
    columns: dict[str, str] = field(default_factory=dict)
    rejected: bool = False  # already found bad here; the services check only the others

    def reject(self, errors: list[FileError], column: str, reason: str, line: int = 0) -> None:
        errors.append(FileError(line or self.line, column, reason))
        self.rejected = True


def _read(path: Path, kind: str) -> tuple[list[_Row], list[FileError], bool]:
    """The file's rows with their line numbers, problems reading it, and whether it is CSV."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            expected = ", ".join(sorted(CSV_COLUMNS[kind]))
            errors = [
                FileError(1, name, f"unknown column; the columns are {expected}")
                for name in reader.fieldnames or []
                if name not in CSV_COLUMNS[kind]
            ]
            rows = [
                _Row(
                    reader.line_num, {k: v.strip() for k, v in raw.items() if k and v and v.strip()}
                )
                for raw in reader
            ]
        return rows, errors, True
    if suffix in (".jsonl", ".ndjson"):
        rows, errors = [], []
        with path.open(encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    errors.append(FileError(number, "", f"not valid JSON: {exc.msg}"))
                    continue
                if not isinstance(data, dict):
                    errors.append(FileError(number, "", "each line must be a JSON object"))
                    continue
                rows.append(_Row(number, data))
        return rows, errors, False
    raise InvalidInput("file", "must end in .csv, .jsonl or .ndjson")


class _CustomerLookup:
    """Resolves customer_email to customer_id, once per address."""

    def __init__(self, session: Session, org_id: int) -> None:
        self.session, self.org_id = session, org_id
        self.known: dict[str, int | None] = {}

    def resolve(self, row: _Row, errors: list[FileError]) -> None:
        email = row.data.pop("customer_email", None)
        if email is None:
            return
        column = row.columns.get("customer_email", "customer_email")
        if "customer_id" in row.data:
            row.reject(errors, column, "give customer_email or customer_id")
            return
        if email not in self.known:
            try:
                self.known[email] = customers_service.find_customer_id(
                    self.session, org_id=self.org_id, kind=IdentityKind.email, value=email
                )
            except InvalidInput as exc:
                row.reject(errors, column, exc.reason)
                return
        if self.known[email] is None:
            row.reject(errors, column, f"no customer with email {email}")
        else:
            row.data["customer_id"] = self.known[email]


# -- customers ----------------------------------------------------------------------------------


def _customer_from_csv(row: _Row, errors: list[FileError]) -> None:
    data = row.data
    identities: list[dict[str, str]] = []
    for kind in ("email", "phone"):
        if kind in data:
            row.columns[f"identities.{len(identities)}"] = kind
            identities.append({"kind": kind, "value": data.pop(kind)})
    if "external_id" in data:
        system, _, value = data.pop("external_id").partition(":")
        row.columns[f"identities.{len(identities)}"] = "external_id"
        identities.append({"kind": "external", "namespace": system, "value": value})
    if not identities:
        row.reject(errors, "email", "give an email, phone or external_id")
    data["identities"] = identities
    data["segments"] = [s for s in data.pop("segments", "").split(";") if s.strip()]


def _import_customers(
    session: Session, org_id: int, rows: list[_Row], report: FileImportReport, source: str
) -> None:
    result = customers_service.import_customers(
        session, org_id=org_id, rows=[r.data for r in rows], source=source
    )
    report.errors += [_file_error(rows[e.index], e.field, e.reason) for e in result.errors]
    report.created, report.updated, report.duplicates = (
        result.created,
        result.updated,
        result.duplicates,
    )


# -- orders -------------------------------------------------------------------------------------


def _orders_from_csv(rows: list[_Row], errors: list[FileError]) -> list[_Row]:
    """Group line rows by external_id into order rows; each order remembers its lines' lines."""
    orders: dict[str, _Row] = {}
    for row in rows:
        data = row.data
        external_id = data.get("external_id")
        if external_id is None:
            errors.append(FileError(row.line, "external_id", "required"))
            continue
        order = orders.get(external_id)
        header = {k: data[k] for k in (*ORDER_COLUMNS, "customer_email") if k in data}
        if order is None:
            order = orders[external_id] = _Row(row.line, {**header, "lines": []})
            if "payment_method" in data:
                order.data["payments"] = [{"method": data["payment_method"]}]
                order.columns["payments.0.method"] = "payment_method"
        else:
            first = {
                k: order.data[k] for k in (*ORDER_COLUMNS, "customer_email") if k in order.data
            }
            for name in sorted(set(first) | set(header)):
                if first.get(name) != header.get(name):
                    reason = f"differs from line {order.line} of this order"
                    order.reject(errors, name, reason, line=row.line)
        position = len(order.data["lines"])
        order.data["lines"].append({k: data[k] for k in ORDER_LINE_COLUMNS if k in data})
        for name in ORDER_LINE_COLUMNS:
            order.columns[f"lines.{position}.{name}"] = f"{name}@{row.line}"
    for order in orders.values():
        for payment in order.data.get("payments", []):
            payment["amount"] = _csv_total(order.data["lines"])
            payment["occurred_at"] = order.data.get("placed_at")
    return list(orders.values())


def _csv_total(lines: list[dict[str, str]]) -> str:
    """The order total for a CSV payment; bad numbers are left for validation to name."""
    try:
        return str(sum(Decimal(line["unit_price"]) * int(line["quantity"]) for line in lines))
    except (KeyError, ValueError, InvalidOperation):
        return "0"


def _import_orders(
    session: Session, org_id: int, rows: list[_Row], report: FileImportReport, source: str
) -> None:
    result = commerce_service.import_orders(session, org_id=org_id, rows=[r.data for r in rows])
    report.errors += [_file_error(rows[e.index], e.field, e.reason) for e in result.errors]
    report.created, report.duplicates = result.created, result.duplicates


# -- events -------------------------------------------------------------------------------------


def _event_from_csv(row: _Row, errors: list[FileError]) -> None:
    if "properties" not in row.data:
        return
    try:
        properties = json.loads(row.data["properties"])
    except json.JSONDecodeError as exc:
        row.reject(errors, "properties", f"not valid JSON: {exc.msg}")
        return
    if not isinstance(properties, dict):
        row.reject(errors, "properties", "must be a JSON object")
        return
    row.data["properties"] = properties


def _import_events(
    session: Session, org_id: int, rows: list[_Row], report: FileImportReport, source: str
) -> None:
    """Ingest in batches in one transaction; any rejected item fails the whole file."""
    batch_size = get_settings().events_max_batch
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        result = journeys_service.ingest_events(
            session, org_id=org_id, items=[r.data for r in batch]
        )
        report.errors += [_file_error(batch[e.index], e.field, e.reason) for e in result.rejected]
        report.created += result.accepted
        report.duplicates += result.duplicates


# -- the import ---------------------------------------------------------------------------------


def _file_error(row: _Row, field_path: str, reason: str) -> FileError:
    """Name the CSV column (and line, for an order line) behind a service's field path."""
    for prefix, column in sorted(row.columns.items(), key=lambda item: -len(item[0])):
        if field_path == prefix or field_path.startswith(prefix + "."):
            name, _, line = column.partition("@")
            return FileError(int(line) if line else row.line, name, reason)
    return FileError(row.line, field_path, reason)


_IMPORTERS: dict[str, Callable[[Session, int, list[_Row], FileImportReport, str], None]] = {
    "customers": _import_customers,
    "orders": _import_orders,
    "events": _import_events,
}


def import_file(session: Session, *, org_id: int, kind: str, path: Path) -> FileImportReport:
    """Import a whole file; raises ImportRejected, listing every bad row, when any row is bad.

    Rows found bad here are set aside and the services check the rest, so one run reports all
    problems. The caller's transaction must roll back on ImportRejected: a service that stores
    the valid items of a partly bad batch (events) then leaves nothing behind.
    """
    if kind not in KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(KINDS)}")
    rows, errors, is_csv = _read(path, kind)
    if errors and is_csv:
        raise ImportRejected(FileImportReport(kind=kind, received=len(rows), errors=errors))
    if is_csv and kind == "customers":
        for row in rows:
            _customer_from_csv(row, errors)
    elif is_csv and kind == "orders":
        rows = _orders_from_csv(rows, errors)
    elif is_csv:
        for row in rows:
            _event_from_csv(row, errors)
    if kind != "customers":
        lookup = _CustomerLookup(session, org_id)
        for row in rows:
            lookup.resolve(row, errors)
    report = FileImportReport(kind=kind, received=len(rows), errors=errors)
    checked = [row for row in rows if not row.rejected]
    if checked:
        _IMPORTERS[kind](session, org_id, checked, report, f"import of {path.name}")
    if report.errors:
        report.errors.sort(key=lambda e: (e.line, e.field))
        raise ImportRejected(report)
    return report
