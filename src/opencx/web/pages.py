"""The overview page (home) of the web app and its chart downloads."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from opencx.auth.deps import CurrentUser, DbSession
from opencx.errors import InvalidInput
from opencx.overview import service
from opencx.overview.schemas import OverviewFilters
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
LIVE_SECONDS = 10


def _day(field: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "must be a date like 2026-11-30") from None


def _filters(
    period: str, start: str | None, end: str | None, country: str | None, segment: str | None
) -> OverviewFilters:
    return service.resolve_overview_filters(
        period=period,
        start=_day("start", start),
        end=_day("end", end),
        country=country,
        segment=segment,
    )


def _cell(value: str | int | float | None) -> str | int | float:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{value}"
    return value


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    period: str = "30d",
    start: str | None = None,
    end: str | None = None,
    country: str | None = None,
    segment: str | None = None,
    stamp: str | None = None,
) -> Response:
    """The dashboard; with `stamp` (its live poll) only its body, or 204 while nothing changed."""
    filters = _filters(period, start, end, country, segment)
    if stamp is not None:
        page = service.poll_overview(db, org_id=current.org_id, filters=filters, stamp=stamp)
        if page is None:
            return Response(status_code=204)
        return render(
            request, "overview/_body.html", current=current, page=page, live_seconds=LIVE_SECONDS
        )
    page = service.compute_overview(db, org_id=current.org_id, filters=filters)
    return render(request, "overview.html", current=current, page=page, live_seconds=LIVE_SECONDS)


@router.get("/overview/charts/{section}/{chart}.csv")
def overview_chart_csv(
    section: str,
    chart: str,
    db: DbSession,
    current: CurrentUser,
    period: str = "30d",
    start: str | None = None,
    end: str | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> Response:
    """Exactly the data one overview chart draws, with the same filters, as CSV."""
    table = service.compute_overview_chart(
        db,
        org_id=current.org_id,
        filters=_filters(period, start, end, country, segment),
        section_key=section,
        chart_key=chart,
    )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([_cell(cell) for cell in row] for row in table.rows)
    return Response(
        text.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table.filename}"'},
    )
