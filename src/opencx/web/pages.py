"""The overview page (home) of the web app."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from opencx.auth.deps import CurrentUser, DbSession
from opencx.overview.service import compute_overview
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, db: DbSession, current: CurrentUser) -> Response:
    figures = compute_overview(db, org_id=current.org_id)
    return render(request, "overview.html", current=current, overview=figures)
