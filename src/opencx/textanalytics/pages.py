"""Web pages of text analytics: learned sentiment models beside the default; the topic explorer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession, SignedIn
from opencx.auth.models import Role
from opencx.db import RowId, utcnow
from opencx.errors import InvalidInput
from opencx.textanalytics import service
from opencx.textanalytics.models import TextSourceKind
from opencx.textanalytics.schemas import TopicFilter, TopicMergeIn, TopicRenameIn
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
    service.learn_organization_topics(db, org_id=current.org_id)
    return RedirectResponse("/settings/text-analytics", status_code=303)


# --- the topic explorer ------------------------------------------------------------------------

PERIODS = {"4": 4, "12": 12, "26": 26, "52": 52, "all": None}
DEFAULT_PERIOD = "12"
SOURCES = {
    "": None,
    "messages": TextSourceKind.conversation_message,
    "surveys": TextSourceKind.survey_answer,
}


@dataclass(frozen=True)
class TopicQuery:
    """The explorer's filters as the page's form sends them (unknown values fall back)."""

    period: str = DEFAULT_PERIOD
    language: str = ""
    source: str = ""

    def to_filter(self, today: date) -> TopicFilter:
        weeks = PERIODS.get(self.period, PERIODS[DEFAULT_PERIOD])
        return TopicFilter(
            since=None if weeks is None else today - timedelta(weeks=weeks) + timedelta(days=1),
            until=None if weeks is None else today,
            language=self.language[:8] or None,
            source_kind=SOURCES.get(self.source),
        )

    def as_params(self) -> dict[str, str]:
        return {"period": self.period, "language": self.language, "source": self.source}


def topic_query(period: str = DEFAULT_PERIOD, language: str = "", source: str = "") -> TopicQuery:
    return TopicQuery(period if period in PERIODS else DEFAULT_PERIOD, language, source)


def topic_query_form(
    period: Annotated[str, Form()] = DEFAULT_PERIOD,
    language: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
) -> TopicQuery:
    """The filters a change form sends along, so that the list comes back as it was shown."""
    return topic_query(period, language, source)


Query = Annotated[TopicQuery, Depends(topic_query)]


def _is_manager(current: SignedIn) -> bool:
    return current.user.role in (Role.admin, Role.manager)


def _explorer(request: Request, db: Session, current: SignedIn, query: TopicQuery) -> Response:
    explorer = service.list_topics(
        db, org_id=current.org_id, filters=query.to_filter(utcnow().date())
    )
    fragment = request.headers.get("hx-target") == "topic-list"
    return render(
        request,
        "textanalytics/_topic_list.html" if fragment else "textanalytics/topics.html",
        current=current,
        explorer=explorer,
        query=query,
        periods=PERIODS,
        sources=SOURCES,
        can_edit=_is_manager(current),
    )


@router.get("/insights", include_in_schema=False)
def insights_page() -> Response:
    return RedirectResponse("/insights/topics", status_code=303)


@router.get("/insights/topics", response_class=HTMLResponse)
def topics_page(request: Request, db: DbSession, current: CurrentUser, query: Query) -> Response:
    return _explorer(request, db, current, query)


@router.get("/insights/topics/{topic_id}/examples", response_class=HTMLResponse)
def topic_examples(
    request: Request, db: DbSession, current: CurrentUser, topic_id: RowId, query: Query
) -> Response:
    detail = service.get_topic(
        db, org_id=current.org_id, topic_id=topic_id, filters=query.to_filter(utcnow().date())
    )
    return render(request, "textanalytics/_topic_examples.html", detail=detail)


def _forbidden(request: Request, current: SignedIn) -> Response:
    return render(
        request, "error.html", 403, current=current, message="Only managers change topics."
    )


@router.post("/insights/topics/{topic_id}/rename", response_class=HTMLResponse)
def rename_topic_page(
    request: Request,
    db: DbSession,
    current: CsrfChecked,
    topic_id: RowId,
    name: Annotated[str, Form(max_length=200)],
    query: Annotated[TopicQuery, Depends(topic_query_form)],
) -> Response:
    if not _is_manager(current):
        return _forbidden(request, current)
    try:
        data = TopicRenameIn(name=name)
    except ValidationError as error:
        raise InvalidInput("name", "is blank") from error
    service.rename_topic(db, org_id=current.org_id, topic_id=topic_id, data=data)
    return _explorer(request, db, current, query)


@router.post("/insights/topics/merge", response_class=HTMLResponse)
def merge_topics_page(
    request: Request,
    db: DbSession,
    current: CsrfChecked,
    into: Annotated[RowId, Form()],
    query: Annotated[TopicQuery, Depends(topic_query_form)],
    topic_ids: Annotated[list[RowId], Form(max_length=100)] = [],  # noqa: B006
) -> Response:
    if not _is_manager(current):
        return _forbidden(request, current)
    merged = [i for i in topic_ids if i != into]
    if not merged:
        raise InvalidInput("topic_ids", "select at least one topic besides the one merged into")
    service.merge_topics(
        db, org_id=current.org_id, topic_id=into, data=TopicMergeIn(topic_ids=merged)
    )
    return _explorer(request, db, current, query)


@router.post("/insights/topics/learn")
def learn_topics_page(request: Request, db: DbSession, current: CsrfChecked) -> Response:
    if not _is_manager(current):
        return _forbidden(request, current)
    service.learn_organization_topics(db, org_id=current.org_id)
    return RedirectResponse("/insights/topics", status_code=303)
