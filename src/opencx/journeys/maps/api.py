"""REST API of journey analytics: the journey map, pain points and UX tasks."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId
from opencx.journeys.maps import service
from opencx.journeys.maps.schemas import JourneyMap, PainPointRanking, TaskIn, TaskOut, TaskReport

router = APIRouter(prefix="/api/v1", tags=["journeys"])

Segment = Annotated[str | None, Query(max_length=50, description="only customers in the segment")]
Country = Annotated[str | None, Query(max_length=2, description="only customers of the country")]


@router.get("/journeys/map", response_model=JourneyMap)
def read_journey_map(
    principal: ApiPrincipal,
    start: date,
    end: date,
    segment: Segment = None,
    country: Country = None,
) -> JourneyMap:
    """Per stage and touchpoint of [start, end): volume, customers, conversion, time, scores."""
    return service.compute_journey_map(
        org_id=principal.org_id, start=start, end=end, segment=segment, country=country
    )


@router.get("/journeys/pain-points", response_model=PainPointRanking)
def read_pain_points(
    principal: ApiPrincipal,
    db: DbSession,
    start: date,
    end: date,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    segment: Segment = None,
    country: Country = None,
) -> PainPointRanking:
    """Touchpoints ranked by impact in [start, end), with weekly trend and example comments."""
    return service.compute_pain_points(
        db,
        org_id=principal.org_id,
        start=start,
        end=end,
        limit=limit,
        segment=segment,
        country=country,
    )


@router.get("/journey-tasks", response_model=list[TaskOut])
def list_tasks(principal: ApiPrincipal, db: DbSession) -> list[TaskOut]:
    return [TaskOut.model_validate(t) for t in service.list_tasks(db, org_id=principal.org_id)]


@router.post("/journey-tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED)
def create_task(body: TaskIn, principal: ApiPrincipal, db: DbSession) -> TaskOut:
    """A UX task: the event that starts it, the one that completes it, and error events."""
    return TaskOut.model_validate(service.create_task(db, org_id=principal.org_id, data=body))


@router.get("/journey-tasks/{task_id}", response_model=TaskOut)
def read_task(task_id: RowId, principal: ApiPrincipal, db: DbSession) -> TaskOut:
    return TaskOut.model_validate(service.get_task(db, org_id=principal.org_id, task_id=task_id))


@router.put("/journey-tasks/{task_id}", response_model=TaskOut)
def update_task(task_id: RowId, body: TaskIn, principal: ApiPrincipal, db: DbSession) -> TaskOut:
    task = service.update_task(db, org_id=principal.org_id, task_id=task_id, data=body)
    return TaskOut.model_validate(task)


@router.delete("/journey-tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: RowId, principal: ApiPrincipal, db: DbSession) -> Response:
    service.delete_task(db, org_id=principal.org_id, task_id=task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/journey-tasks/{task_id}/metrics", response_model=TaskReport)
def read_task_metrics(
    task_id: RowId, principal: ApiPrincipal, db: DbSession, start: date, end: date
) -> TaskReport:
    """Success, error and abandonment rates, time on task and clicks, by device, channel, week."""
    return service.compute_task_report(
        db, org_id=principal.org_id, task_id=task_id, start=start, end=end
    )
