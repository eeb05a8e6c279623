"""Jinja2 templates shared by every domain's pages, the navigation they show, and display filters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from opencx import __version__
from opencx.db import utcnow

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.globals["version"] = __version__

# (label, path, available yet); domains still to come show as "soon" so the shell is complete.
NAVIGATION: list[tuple[str, str, bool]] = [
    ("Overview", "/", True),
    ("Customers", "/customers", True),
    ("Inbox", "/inbox", True),
    ("Surveys", "/surveys", True),
    ("Agent feedback", "/feedback/agents", True),
    ("How customers feel", "/feedback/feelings", True),
    ("Desk report", "/service-desk/report", True),
    ("Journeys", "/journeys", True),
    ("Insights", "/insights", True),
    ("Quality", "/quality", False),
    ("Workforce", "/workforce", False),
    ("Settings", "/settings", True),
]
templates.env.globals["navigation"] = NAVIGATION


class Dated(Protocol):
    occurred_at: datetime
    kind: str


def format_moment(value: datetime | None) -> str:
    """A stored UTC moment as people read it: 2026-11-22 14:05 UTC."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_day(value: datetime | date | None) -> str:
    """The calendar day of a moment (UTC) or a date: 2026-11-22."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


def monthly_activity(
    entries: Iterable[Dated], months: int = 12, now: datetime | None = None
) -> dict[str, Any]:
    """Timeline entries counted per calendar month (UTC) and kind, for the last `months` months.

    Returns {"labels": ["2026-01", ...], "series": [{"name": kind, "data": [counts]}]}, the
    shape the `bar_chart` macro draws.
    """
    now = (now or utcnow()).astimezone(UTC)
    labels: list[str] = []
    year, month = now.year, now.month
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    labels.reverse()
    counts: Counter[tuple[str, str]] = Counter()
    for entry in entries:
        label = entry.occurred_at.astimezone(UTC).strftime("%Y-%m")
        if label >= labels[0]:
            counts[(entry.kind, label)] += 1
    kinds = sorted({kind for kind, _ in counts})
    return {
        "labels": labels,
        "series": [{"name": k, "data": [counts[(k, m)] for m in labels]} for k in kinds],
    }


def format_duration(seconds: float | None) -> str:
    """Seconds as people read them: 45 s, 12 min, 3.5 h, 1 day, 2.5 days."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    days = seconds / 86400
    if days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    return f"{days:.1f} days"


templates.env.filters["moment"] = format_moment
templates.env.filters["duration"] = format_duration
templates.env.filters["day"] = format_day
templates.env.filters["monthly_activity"] = monthly_activity


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page (or an HTMX fragment) with the shared layout and filters."""
    return templates.TemplateResponse(request, template, context, status_code=status_code)
