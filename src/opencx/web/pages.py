"""The overview page (home) of the web app."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from opencx.auth.deps import CurrentUser
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, current: CurrentUser) -> Response:
    return render(request, "overview.html", current=current)
