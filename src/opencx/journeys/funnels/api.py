"""REST API of journey paths and funnels: transitions, paths, ad hoc and saved funnels."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId, utcnow
from opencx.journeys.funnels import service
from opencx.journeys.funnels.metrics import MAX_PATH_STEPS
from opencx.journeys.funnels.schemas import (
    Direction,
    FunnelIn,
    FunnelOut,
    FunnelQuery,
    FunnelResult,
    JourneyFilter,
    PathsResult,
    TransitionsResult,
)

router = APIRouter(prefix="/api/v1/journeys", tags=["journeys"])

DEFAULT_DAYS = 30
Start = Annotated[date | None, Query(description="first UTC day; default 30 days before end")]
End = Annotated[date | None, Query(description="UTC day after the period; default tomorrow")]
Filter = Annotated[JourneyFilter, Depends()]


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or utcnow().date() + timedelta(days=1)
    return start or end - timedelta(days=DEFAULT_DAYS), end


@router.get("/transitions", response_model=TransitionsResult)
def read_transitions(
    principal: ApiPrincipal,
    db: DbSession,
    where: Filter,
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=200)] = service.DEFAULT_TRANSITIONS,
) -> TransitionsResult:
    """The most frequent moves between touchpoints within a session."""
    start, end = _period(start, end)
    return service.compute_transitions(
        db, org_id=principal.org_id, start=start, end=end, where=where, limit=limit
    )


@router.get("/paths", response_model=PathsResult)
def read_paths(
    principal: ApiPrincipal,
    db: DbSession,
    where: Filter,
    touchpoint_key: Annotated[str, Query(min_length=1, max_length=100)] = "web-product-page",
    direction: Direction = "after",
    steps: Annotated[int, Query(ge=1, le=MAX_PATH_STEPS)] = 3,
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=100)] = service.DEFAULT_PATHS,
) -> PathsResult:
    """The most common paths after (or before) a touchpoint, with their Sankey nodes and links."""
    start, end = _period(start, end)
    return service.compute_paths(
        db,
        org_id=principal.org_id,
        start=start,
        end=end,
        touchpoint_key=touchpoint_key,
        direction=direction,
        steps=steps,
        where=where,
        limit=limit,
    )


@router.post("/funnels/query", response_model=FunnelResult)
def query_funnel(body: FunnelQuery, principal: ApiPrincipal, db: DbSession) -> FunnelResult:
    """An unsaved funnel's conversion, drop-off and time per step."""
    return service.compute_funnel(db, org_id=principal.org_id, query=body)


@router.get("/funnels", response_model=list[FunnelOut])
def list_funnels(principal: ApiPrincipal, db: DbSession) -> list[FunnelOut]:
    return service.list_funnels(db, org_id=principal.org_id)


@router.post("/funnels", response_model=FunnelOut, status_code=status.HTTP_201_CREATED)
def create_funnel(body: FunnelIn, principal: ApiPrincipal, db: DbSession) -> FunnelOut:
    """Save a funnel (422 naming the step whose touchpoint does not exist)."""
    return service.create_funnel(db, org_id=principal.org_id, data=body)


@router.get("/funnels/{funnel_id}", response_model=FunnelOut)
def read_funnel(funnel_id: RowId, principal: ApiPrincipal, db: DbSession) -> FunnelOut:
    return service.get_funnel(db, org_id=principal.org_id, funnel_id=funnel_id)


@router.put("/funnels/{funnel_id}", response_model=FunnelOut)
def replace_funnel(
    funnel_id: RowId, body: FunnelIn, principal: ApiPrincipal, db: DbSession
) -> FunnelOut:
    return service.update_funnel(db, org_id=principal.org_id, funnel_id=funnel_id, data=body)


@router.delete("/funnels/{funnel_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_funnel(funnel_id: RowId, principal: ApiPrincipal, db: DbSession) -> Response:
    service.delete_funnel(db, org_id=principal.org_id, funnel_id=funnel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/funnels/{funnel_id}/result", response_model=FunnelResult)
def read_funnel_result(
    funnel_id: RowId,
    principal: ApiPrincipal,
    db: DbSession,
    where: Filter,
    start: Start = None,
    end: End = None,
) -> FunnelResult:
    """A saved funnel computed over the period."""
    start, end = _period(start, end)
    return service.compute_saved_funnel(
        db, org_id=principal.org_id, funnel_id=funnel_id, start=start, end=end, where=where
    )
