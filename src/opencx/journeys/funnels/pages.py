"""Web pages of journey paths (a Sankey and the top transitions) and funnels (build, save, view)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession
from opencx.db import utcnow
from opencx.errors import Conflict, InvalidInput
from opencx.journeys import service as journeys
from opencx.journeys.funnels import service
from opencx.journeys.funnels.metrics import BREAKDOWNS, MAX_PATH_STEPS
from opencx.journeys.funnels.schemas import (
    MAX_STEPS,
    FunnelIn,
    FunnelQuery,
    JourneyFilter,
    TransitionsResult,
)
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

PERIOD_DAYS = (7, 30, 90, 365)
DEFAULT_DAYS = 90
DEVICES = ("desktop", "mobile", "tablet")
WINDOWS = ((3600, "1 hour"), (86400, "1 day"), (7 * 86400, "7 days"), (30 * 86400, "30 days"))
PATHS_RESULTS = "paths-results"
FUNNEL_RESULTS = "funnel-results"


def _period(days: int) -> tuple[int, date, date]:
    days = days if days in PERIOD_DAYS else DEFAULT_DAYS
    end = utcnow().date() + timedelta(days=1)
    return days, end - timedelta(days=days), end


def _choices(db: DbSession, org_id: int) -> dict[str, Any]:
    catalog = journeys.list_touchpoints(db, org_id=org_id)
    return {
        "touchpoints": catalog,
        "channels": sorted({tp.channel for tp in catalog}),
        "devices": DEVICES,
        "period_days": PERIOD_DAYS,
    }


@router.get("/journeys/paths", response_class=HTMLResponse)
def paths_page(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    touchpoint_key: str = "",
    direction: str = "after",
    steps: int = 3,
    days: int = DEFAULT_DAYS,
    segment: str = "",
    country: str = "",
    channel: str = "",
    device: str = "",
) -> Response:
    days, start, end = _period(days)
    choices = _choices(db, current.org_id)
    direction = direction if direction in ("after", "before") else "after"
    steps = min(max(steps, 1), MAX_PATH_STEPS)
    keys = [tp.key for tp in choices["touchpoints"]]
    where = JourneyFilter(
        segment=segment[:100] or None,
        country=country[:2] or None,
        channel=channel[:50] or None,
        device=device[:50] or None,
    )
    transitions = paths = None
    if keys:
        transitions = service.compute_transitions(
            db, org_id=current.org_id, start=start, end=end, where=where
        )
        if touchpoint_key not in keys:
            touchpoint_key = _busiest(choices["touchpoints"], transitions)
        paths = service.compute_paths(
            db,
            org_id=current.org_id,
            start=start,
            end=end,
            touchpoint_key=touchpoint_key,
            direction=direction,  # type: ignore[arg-type]
            steps=steps,
            where=where,
        )
    partial = request.headers.get("hx-target") == PATHS_RESULTS
    return render(
        request,
        "journeys/paths_results.html" if partial else "journeys/paths.html",
        current=current,
        transitions=transitions,
        paths=paths,
        touchpoint_key=touchpoint_key,
        direction=direction,
        steps=steps,
        max_steps=MAX_PATH_STEPS,
        days=days,
        where=where,
        results_id=PATHS_RESULTS,
        **choices,
    )


def _busiest(catalog: list[Any], transitions: TransitionsResult) -> str:
    """Where the most moves start; with none yet, the first touchpoint by key."""
    if transitions.transitions:
        busiest = transitions.transitions[0].from_touchpoint_id
        return next((str(tp.key) for tp in catalog if tp.id == busiest), str(catalog[0].key))
    return str(catalog[0].key)


def _builder(db: DbSession, current: CurrentUser, days: int) -> dict[str, Any]:
    days, start, end = _period(days)
    return {
        **_choices(db, current.org_id),
        "event_types": service.list_event_types(org_id=current.org_id, start=start, end=end),
        "windows": WINDOWS,
        "breakdowns": BREAKDOWNS,
        "builder_steps": MAX_STEPS,
        "days": days,
        "results_id": FUNNEL_RESULTS,
    }


def _steps(touchpoint_key: list[str], event_type: list[str]) -> list[dict[str, str | None]]:
    """The builder's step rows; rows left blank are skipped."""
    rows = zip(touchpoint_key, event_type, strict=False)
    return [
        {"touchpoint_key": key.strip() or None, "event_type": kind.strip() or None}
        for key, kind in rows
        if key.strip() or kind.strip()
    ]


def _problem(exc: ValidationError | InvalidInput | Conflict) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return str(exc)


@router.get("/journeys/funnels", response_class=HTMLResponse)
def funnels_page(
    request: Request, db: DbSession, current: CurrentUser, days: int = DEFAULT_DAYS
) -> Response:
    return render(
        request,
        "journeys/funnels.html",
        current=current,
        funnels=service.list_funnels(db, org_id=current.org_id),
        form={"steps": [], "window_seconds": 86400, "breakdown": None, "name": ""},
        **_builder(db, current, days),
    )


@router.post("/journeys/funnels/preview", response_class=HTMLResponse)
def preview_funnel(
    request: Request,
    db: DbSession,
    current: CsrfChecked,
    touchpoint_key: Annotated[list[str], Form()],
    event_type: Annotated[list[str], Form()],
    window_seconds: Annotated[int, Form()] = 86400,
    breakdown: Annotated[str, Form()] = "",
    days: Annotated[int, Form()] = DEFAULT_DAYS,
) -> Response:
    days, start, end = _period(days)
    result = problem = None
    try:
        query = FunnelQuery.model_validate(
            {
                "steps": _steps(touchpoint_key, event_type),
                "window_seconds": window_seconds,
                "breakdown": breakdown or None,
                "start": start,
                "end": end,
            }
        )
        result = service.compute_funnel(db, org_id=current.org_id, query=query)
    except (ValidationError, InvalidInput) as exc:
        problem = _problem(exc)
    return render(
        request,
        "journeys/funnel_results.html",
        current=current,
        result=result,
        problem=problem,
        status_code=200 if problem is None else 422,
    )


@router.post("/journeys/funnels", response_class=HTMLResponse)
def save_funnel(
    request: Request,
    db: DbSession,
    current: CsrfChecked,
    name: Annotated[str, Form()],
    touchpoint_key: Annotated[list[str], Form()],
    event_type: Annotated[list[str], Form()],
    window_seconds: Annotated[int, Form()] = 86400,
    breakdown: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "name": name.strip(),
        "steps": _steps(touchpoint_key, event_type),
        "window_seconds": window_seconds,
        "breakdown": breakdown or None,
    }
    try:
        saved = service.create_funnel(db, org_id=current.org_id, data=FunnelIn.model_validate(form))
    except (ValidationError, InvalidInput, Conflict) as exc:
        return render(
            request,
            "journeys/funnels.html",
            current=current,
            funnels=service.list_funnels(db, org_id=current.org_id),
            form=form,
            problem=_problem(exc),
            status_code=422,
            **_builder(db, current, DEFAULT_DAYS),
        )
    return RedirectResponse(f"/journeys/funnels/{saved.id}", status_code=303)


@router.get("/journeys/funnels/{funnel_id}", response_class=HTMLResponse)
def funnel_page(
    request: Request, funnel_id: int, db: DbSession, current: CurrentUser, days: int = DEFAULT_DAYS
) -> Response:
    days, start, end = _period(days)
    funnel = service.get_funnel(db, org_id=current.org_id, funnel_id=funnel_id)
    result = service.compute_saved_funnel(
        db, org_id=current.org_id, funnel_id=funnel_id, start=start, end=end
    )
    return render(
        request,
        "journeys/funnel.html",
        current=current,
        funnel=funnel,
        result=result,
        problem=None,
        days=days,
        period_days=PERIOD_DAYS,
        windows=dict(WINDOWS),
    )


@router.post("/journeys/funnels/{funnel_id}/delete")
def delete_funnel(funnel_id: int, db: DbSession, current: CsrfChecked) -> Response:
    service.delete_funnel(db, org_id=current.org_id, funnel_id=funnel_id)
    return RedirectResponse("/journeys/funnels", status_code=303)
