"""Web pages of feedback for team leads: survey scores per agent, and how customers feel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from opencx.analytics import service
from opencx.analytics.metrics import TEXT_DIMENSIONS, TEXT_SOURCES
from opencx.auth.deps import CurrentUser, DbSession
from opencx.auth.models import Role
from opencx.db import utcnow
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

PERIOD_CHOICES = (4, 8, 12, 26, 52)


@router.get("/feedback/agents", response_class=HTMLResponse)
def agent_feedback_list(
    request: Request, db: DbSession, current: CurrentUser, weeks: int = 12
) -> Response:
    # An agent has one page to see, their own.
    if current.principal.role == Role.agent:
        return RedirectResponse(f"/feedback/agents/{current.user.id}?weeks={weeks}", 303)
    overview = service.get_agent_feedback_overview(
        db, org_id=current.org_id, viewer=current.principal, today=utcnow().date(), weeks=weeks
    )
    return render(
        request,
        "feedback/agents.html",
        current=current,
        overview=overview,
        weeks=weeks,
        period_choices=PERIOD_CHOICES,
    )


@router.get("/feedback/agents/{user_id}", response_class=HTMLResponse)
def agent_feedback(
    request: Request, user_id: int, db: DbSession, current: CurrentUser, weeks: int = 12
) -> Response:
    feedback = service.get_agent_feedback(
        db,
        org_id=current.org_id,
        viewer=current.principal,
        user_id=user_id,
        today=utcnow().date(),
        weeks=weeks,
    )
    return render(
        request,
        "feedback/agent.html",
        current=current,
        feedback=feedback,
        weeks=weeks,
        period_choices=PERIOD_CHOICES,
        sees_team=current.principal.role != Role.agent,
    )


@router.get("/feedback/feelings", response_class=HTMLResponse)
def customer_feelings(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    weeks: int = 12,
    by: str = "touchpoint",
    source: str = "",
) -> Response:
    """How customers feel: sentiment per week, emotions and sentiment per group and agent."""
    feelings = service.get_customer_feelings(
        db,
        org_id=current.org_id,
        viewer=current.principal,
        today=utcnow().date(),
        weeks=weeks,
        by=by,
        source_kind=source or None,
    )
    return render(
        request,
        "feedback/feelings.html",
        current=current,
        feelings=feelings,
        weeks=weeks,
        period_choices=PERIOD_CHOICES,
        dimensions=TEXT_DIMENSIONS,
        sources=TEXT_SOURCES,
    )


DESK_GROUPINGS = (("channel", "channel"), ("team", "team"), ("agent", "agent"))


@router.get("/service-desk/report", response_class=HTMLResponse)
def service_desk_report(
    request: Request, db: DbSession, current: CurrentUser, weeks: int = 12, by: str = "channel"
) -> Response:
    report = service.get_service_desk_report(
        db, org_id=current.org_id, by=by, today=utcnow().date(), weeks=weeks
    )
    return render(
        request,
        "service_desk/report.html",
        current=current,
        report=report,
        weeks=weeks,
        period_choices=PERIOD_CHOICES,
        groupings=DESK_GROUPINGS,
    )
