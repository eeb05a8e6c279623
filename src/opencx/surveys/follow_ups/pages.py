"""Web pages of the closed loop: the follow-up list (mine, all, overdue) and one follow-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession
from opencx.auth.models import Role
from opencx.errors import InvalidInput
from opencx.surveys.follow_ups import service
from opencx.surveys.follow_ups.models import FollowUpStatus
from opencx.surveys.follow_ups.schemas import FollowUpChange
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
RESULTS_ID = "follow-up-results"
SHOWS = ("mine", "all", "overdue")


@router.get("/surveys/follow-ups", response_class=HTMLResponse)
def follow_up_list(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    show: str = "",
    status: str = "",
    page: int = 1,
) -> Response:
    # Leads see everything by default; everyone else starts with their own follow-ups.
    if show not in SHOWS:
        show = "all" if current.user.role in (Role.admin, Role.manager) else "mine"
    chosen = FollowUpStatus(status) if status in FollowUpStatus.__members__ else None
    page = max(page, 1)
    found = service.list_follow_ups(
        db,
        org_id=current.org_id,
        status=chosen,
        owner_id=current.user.id if show == "mine" else None,
        overdue=True if show == "overdue" else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    partial = request.headers.get("hx-target") == RESULTS_ID
    return render(
        request,
        "surveys/follow_ups_results.html" if partial else "surveys/follow_ups.html",
        current=current,
        found=found,
        show=show,
        status=chosen.value if chosen else "",
        statuses=list(FollowUpStatus),
        page=page,
        page_size=PAGE_SIZE,
        results_id=RESULTS_ID,
    )


def _detail(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    follow_up_id: int,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    workspace = service.get_follow_up_workspace(
        db, org_id=current.org_id, follow_up_id=follow_up_id, actor=current.principal
    )
    return render(
        request,
        "surveys/follow_ups_detail.html",
        status_code=status_code,
        current=current,
        workspace=workspace,
        follow_up=workspace.follow_up,
        error=error,
    )


@router.get("/surveys/follow-ups/{follow_up_id}", response_class=HTMLResponse)
def follow_up_page(
    request: Request, follow_up_id: int, db: DbSession, current: CurrentUser
) -> Response:
    return _detail(request, db, current, follow_up_id)


@router.post("/surveys/follow-ups/{follow_up_id}", response_class=HTMLResponse)
def change_follow_up_page(
    request: Request,
    follow_up_id: int,
    db: DbSession,
    current: CsrfChecked,
    status: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "keep",
    note: Annotated[str, Form()] = "",
) -> Response:
    fields: dict[str, object] = {"note": note}
    if status:
        fields["status"] = status
    if owner != "keep":
        fields["owner_id"] = int(owner) if owner.isdigit() else None
    try:
        service.change_follow_up(
            db,
            org_id=current.org_id,
            follow_up_id=follow_up_id,
            data=FollowUpChange.model_validate(fields),
            actor=current.principal,
        )
    except service.FollowUpNotYours as exc:
        return render(request, "error.html", 403, current=current, message=str(exc))
    except (InvalidInput, ValueError) as exc:
        db.rollback()
        return _detail(request, db, current, follow_up_id, error=str(exc), status_code=422)
    return RedirectResponse(f"/surveys/follow-ups/{follow_up_id}", status_code=303)


@router.post("/surveys/follow-ups/{follow_up_id}/notes", response_class=HTMLResponse)
def add_note_page(
    request: Request,
    follow_up_id: int,
    db: DbSession,
    current: CsrfChecked,
    text: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.add_follow_up_note(
            db, org_id=current.org_id, follow_up_id=follow_up_id, text=text, actor=current.principal
        )
    except service.FollowUpNotYours as exc:
        return render(request, "error.html", 403, current=current, message=str(exc))
    except InvalidInput as exc:
        return _detail(request, db, current, follow_up_id, error=str(exc), status_code=422)
    return RedirectResponse(f"/surveys/follow-ups/{follow_up_id}#notes", status_code=303)
