"""Web pages of the customer 360: the searchable customer list and one customer's profile."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from opencx.auth.deps import CurrentUser, DbSession
from opencx.customers import service
from opencx.customers.models import ConsentPurpose
from opencx.textanalytics import service as textanalytics
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
RESULTS_ID = "customer-results"
TIMELINE_ID = "timeline"


@router.get("/customers", response_class=HTMLResponse)
def customer_list(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    q: str = "",
    country: str = "",
    segment: str = "",
    page: int = 1,
) -> Response:
    page = max(page, 1)
    directory = service.get_customer_directory(
        db,
        org_id=current.org_id,
        query=q or None,
        country=country or None,
        segment=segment or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    # Live search swaps only the results table; a plain request (no JavaScript) gets the page.
    partial = request.headers.get("hx-target") == RESULTS_ID
    return render(
        request,
        "customers/_results.html" if partial else "customers/list.html",
        current=current,
        directory=directory,
        filters={"q": q, "country": country, "segment": segment},
        page=page,
        page_size=PAGE_SIZE,
        results_id=RESULTS_ID,
    )


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_profile(
    request: Request, customer_id: int, db: DbSession, current: CurrentUser, kind: str = ""
) -> Response:
    profile = service.get_customer_360(db, org_id=current.org_id, customer_id=customer_id)
    feelings = textanalytics.get_timeline_feelings(
        db, org_id=current.org_id, timeline=profile.timeline
    )
    return render(
        request,
        "customers/detail.html",
        current=current,
        c360=profile,
        feelings=feelings,
        consent_purposes=list(ConsentPurpose),
        kind=kind,
        timeline_id=TIMELINE_ID,
    )
