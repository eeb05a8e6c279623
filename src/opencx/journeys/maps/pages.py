"""Web pages of journey analytics: the index, the journey map, pain points and UX tasks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession
from opencx.db import utcnow
from opencx.errors import InvalidInput
from opencx.journeys.maps import service
from opencx.journeys.maps.schemas import TaskIn
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

PERIOD_CHOICES = (4, 12, 26, 52)


def _period(weeks: str, start: date | None, end: date | None) -> tuple[date, date, int, str]:
    """[start, end), the weeks chosen and how the picker names dates given in the address.

    A number of weeks chosen in the picker wins; else the dates given; else the last 12 weeks.
    The last N weeks are whole ISO weeks up to and including today.
    """
    if not (weeks.isdigit() and int(weeks) in PERIOD_CHOICES) and start and end:
        return start, end, 12, f"{start.isoformat()} to {end.isoformat()}"
    chosen = int(weeks) if weeks.isdigit() and int(weeks) in PERIOD_CHOICES else 12
    today = utcnow().date()
    first = today - timedelta(days=today.weekday() + 7 * (chosen - 1))
    return first, today + timedelta(days=1), chosen, ""


@router.get("/journeys", response_class=HTMLResponse)
def journeys_index(request: Request, current: CurrentUser) -> Response:
    return render(request, "journeys/index.html", current=current)


@router.get("/journeys/map", response_class=HTMLResponse)
def journey_map(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    weeks: str = "",
    start: date | None = None,
    end: date | None = None,
    segment: str = "",
    country: str = "",
) -> Response:
    start, end, chosen, custom_period = _period(weeks, start, end)
    page = service.get_map_page(
        db,
        org_id=current.org_id,
        start=start,
        end=end,
        segment=segment or None,
        country=country or None,
    )
    return render(
        request,
        "journeys/map.html",
        current=current,
        page=page,
        journey=page.map,
        weeks=chosen,
        period_choices=PERIOD_CHOICES,
        custom_period=custom_period,
        filters={"segment": segment, "country": country},
    )


@router.get("/journeys/pain-points", response_class=HTMLResponse)
def pain_points(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    weeks: str = "",
    start: date | None = None,
    end: date | None = None,
    segment: str = "",
    country: str = "",
) -> Response:
    start, end, chosen, custom_period = _period(weeks, start, end)
    page = service.get_pain_points_page(
        db,
        org_id=current.org_id,
        start=start,
        end=end,
        segment=segment or None,
        country=country or None,
    )
    return render(
        request,
        "journeys/pain_points.html",
        current=current,
        page=page,
        ranking=page.ranking,
        weeks=chosen,
        period_choices=PERIOD_CHOICES,
        custom_period=custom_period,
        filters={"segment": segment, "country": country},
    )


def _tasks(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    *,
    task_id: int | None,
    weeks: str,
    start: date | None = None,
    end: date | None = None,
    error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    start, end, chosen, custom_period = _period(weeks, start, end)
    page = service.get_tasks_page(db, org_id=current.org_id, task_id=task_id, start=start, end=end)
    return render(
        request,
        "journeys/tasks.html",
        status_code=status_code,
        current=current,
        page=page,
        report=page.report,
        weeks=chosen,
        period_choices=PERIOD_CHOICES,
        custom_period=custom_period,
        error=error,
        form=form or {},
    )


@router.get("/journeys/tasks", response_class=HTMLResponse)
def tasks(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    task: int | None = None,
    weeks: str = "",
    start: date | None = None,
    end: date | None = None,
) -> Response:
    return _tasks(request, db, current, task_id=task, weeks=weeks, start=start, end=end)


@router.post("/journeys/tasks", response_class=HTMLResponse)
def create_task(
    request: Request,
    db: DbSession,
    current: CsrfChecked,
    name: Annotated[str, Form()] = "",
    start_event: Annotated[str, Form()] = "",
    success_event: Annotated[str, Form()] = "",
    error_events: Annotated[str, Form()] = "",
    abandon_after_minutes: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "name": name,
        "start_event": start_event,
        "success_event": success_event,
        "error_events": error_events,
        "abandon_after_minutes": abandon_after_minutes,
    }
    try:
        minutes = abandon_after_minutes.strip()
        if minutes and not minutes.isdigit():
            raise InvalidInput("abandon_after_minutes", "must be a whole number of minutes")
        data = TaskIn(
            name=name.strip(),
            start_event=start_event.strip(),
            success_event=success_event.strip(),
            error_events=[e.strip() for e in error_events.split(",") if e.strip()],
            abandon_after_seconds=int(minutes) * 60 if minutes else None,
        )
        task = service.create_task(db, org_id=current.org_id, data=data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        message = f"{field}: {first['msg']}"
        return _tasks(request, db, current, task_id=None, weeks="", error=message, form=form,
                      status_code=422)  # fmt: skip
    except InvalidInput as exc:
        db.rollback()
        return _tasks(request, db, current, task_id=None, weeks="", error=str(exc), form=form,
                      status_code=422)  # fmt: skip
    return RedirectResponse(f"/journeys/tasks?task={task.id}", status_code=303)
