"""GDPR hooks: each domain that keeps data about a customer registers how to export and erase it.

An export source returns `{section name: [JSON-ready dicts]}` for the given customer ids; an
erasure hook removes or anonymizes personal data for those ids in its own tables (keeping rows
that aggregates need, unlinked or stripped of PII) and returns `{table name: rows changed}`.
Both run inside the caller's transaction; neither commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

ExportSource = Callable[[Session, int, list[int]], dict[str, list[dict[str, Any]]]]
ErasureHook = Callable[[Session, int, list[int]], dict[str, int]]

_export_sources: dict[str, ExportSource] = {}
_erasure_hooks: dict[str, ErasureHook] = {}


def register_export_source(name: str, source: ExportSource) -> None:
    _export_sources[name] = source


def register_erasure_hook(name: str, hook: ErasureHook) -> None:
    _erasure_hooks[name] = hook


def collect_export(session: Session, *, org_id: int, customer_ids: list[int]) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    for source in _export_sources.values():
        sections.update(source(session, org_id, customer_ids))
    return sections


def run_erasure_hooks(session: Session, *, org_id: int, customer_ids: list[int]) -> dict[str, int]:
    changed: dict[str, int] = {}
    for hook in _erasure_hooks.values():
        for table, count in hook(session, org_id, customer_ids).items():
            changed[table] = changed.get(table, 0) + count
    return changed
