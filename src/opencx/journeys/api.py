"""REST API of journeys: the touchpoint catalog and event ingestion."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId, RowOffset
from opencx.errors import InvalidInput
from opencx.journeys import service
from opencx.journeys.schemas import (
    EventBatch,
    EventIngestResult,
    EventOut,
    TouchpointBatch,
    TouchpointOut,
)
from opencx.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["journeys"])


@router.get("/touchpoints", response_model=list[TouchpointOut])
def list_touchpoints(principal: ApiPrincipal, db: DbSession) -> list[TouchpointOut]:
    touchpoints = service.list_touchpoints(db, org_id=principal.org_id)
    return [TouchpointOut.model_validate(t) for t in touchpoints]


@router.post("/touchpoints", response_model=list[TouchpointOut])
def upsert_touchpoints(
    body: TouchpointBatch, principal: ApiPrincipal, db: DbSession
) -> list[TouchpointOut]:
    touchpoints = service.upsert_touchpoints(
        db, org_id=principal.org_id, touchpoints=body.touchpoints
    )
    return [TouchpointOut.model_validate(t) for t in touchpoints]


@router.get("/touchpoints/{touchpoint_id}", response_model=TouchpointOut)
def read_touchpoint(touchpoint_id: RowId, principal: ApiPrincipal, db: DbSession) -> TouchpointOut:
    touchpoint = service.get_touchpoint(db, org_id=principal.org_id, touchpoint_id=touchpoint_id)
    return TouchpointOut.model_validate(touchpoint)


async def read_event_batch(request: Request) -> list[dict[str, Any]]:
    """Parse the body of POST /events by hand: orjson, and items left for the service to check.

    FastAPI's own body parsing would reject the whole batch for one bad item, and parsing
    with the standard json module was the biggest single cost of a request.
    """
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError(
            [{"loc": ["body"], "msg": f"invalid JSON: {exc}", "type": "json_invalid"}]
        ) from exc
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise InvalidInput("events", "the body must be an object with a list of events")
    if extra := sorted(set(body) - {"events"}):
        raise InvalidInput(extra[0], "unknown field")
    events: list[dict[str, Any]] = body["events"]
    max_batch = get_settings().events_max_batch
    if len(events) > max_batch:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"at most {max_batch} events per request, got {len(events)}; nothing was stored",
        )
    return events


def _event_batch_schema() -> dict[str, Any]:
    """EventBatch's JSON schema with EventIn inlined: no route registers it as a component."""
    schema = EventBatch.model_json_schema()
    schema["properties"]["events"]["items"] = schema.pop("$defs")["EventIn"]
    return schema


@router.post(
    "/events",
    response_model=EventIngestResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _event_batch_schema()}},
        }
    },
    responses={413: {"description": "more events than OPENCX_EVENTS_MAX_BATCH; nothing stored"}},
)
def ingest_events(
    principal: ApiPrincipal,
    db: DbSession,
    # After the principal: a caller without a valid key gets 401 before the body is read.
    events: Annotated[list[dict[str, Any]], Depends(read_event_batch)],
) -> EventIngestResult:
    """Store events idempotently by event_id; invalid items are reported by index and skipped."""
    return service.ingest_events(db, org_id=principal.org_id, items=events)


@router.get("/events", response_model=list[EventOut])
def list_events(
    principal: ApiPrincipal,
    db: DbSession,
    customer_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: RowOffset = 0,
) -> list[EventOut]:
    events = service.list_events(
        db,
        org_id=principal.org_id,
        customer_ids=None if customer_id is None else [customer_id],
        limit=limit,
        offset=offset,
    )
    return [EventOut.model_validate(e) for e in events]
