"""Web page of text analytics: the organization's learned sentiment models beside the default."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession
from opencx.auth.models import Role
from opencx.textanalytics import service
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/settings/text-analytics", response_class=HTMLResponse)
def text_analytics_page(request: Request, db: DbSession, current: CurrentUser) -> Response:
    return render(
        request,
        "textanalytics/settings.html",
        current=current,
        overview=service.get_text_analytics_overview(db, org_id=current.org_id),
    )


@router.post("/settings/text-analytics/learn")
def learn_page(request: Request, db: DbSession, current: CsrfChecked) -> Response:
    if current.user.role not in (Role.admin, Role.manager):
        return render(
            request, "error.html", 403, current=current, message="Only managers relearn models."
        )
    service.train_organization_sentiment(db, org_id=current.org_id)
    return RedirectResponse("/settings/text-analytics", status_code=303)
