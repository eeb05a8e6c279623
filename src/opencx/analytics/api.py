"""REST API of analytics: metrics of the caller's organization, read from the analytics store."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from opencx.analytics import service
from opencx.analytics.schemas import (
    CesWeek,
    CsatWeek,
    FollowUpGrouping,
    FollowUpWeek,
    LateDeliveriesWeek,
    NpsWeek,
    PeriodGrain,
    ResponseRateWeek,
    ServiceDeskDimension,
    ServiceDeskMeasures,
    SurveyDimension,
    SurveyMetricName,
    SurveyScore,
    SurveyScoreChange,
    TextDimension,
    TextEmotions,
    TextSentiment,
    TextSourceKindName,
    TouchpointEventsDay,
    UnitsSoldWeek,
)
from opencx.auth.deps import ApiPrincipal, DbSession

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Start = Annotated[date, Query(description="first UTC day of the period")]
End = Annotated[date, Query(description="UTC day after the period (exclusive)")]
SurveyFilter = Annotated[int | None, Query(description="only this survey's responses")]
AgentFilter = Annotated[int | None, Query(description="only responses about this agent (user id)")]
TextSourceFilter = Annotated[
    TextSourceKindName | None,
    Query(
        description="survey_answer (comments) or conversation_message (customer messages); both when absent"
    ),
]
CountryFilter = Annotated[
    str | None, Query(max_length=64, description="only customers of this country (ISO code)")
]
SegmentFilter = Annotated[
    str | None, Query(max_length=100, description="only customers in this segment")
]


@router.get("/units-sold-per-product-per-week", response_model=list[UnitsSoldWeek])
def read_units_sold_per_product_per_week(
    principal: ApiPrincipal, start: Start, end: End
) -> list[UnitsSoldWeek]:
    return service.compute_units_sold_per_product_per_week(
        org_id=principal.org_id, start=start, end=end
    )


@router.get("/events-per-touchpoint-per-day", response_model=list[TouchpointEventsDay])
def read_events_per_touchpoint_per_day(
    principal: ApiPrincipal, start: Start, end: End
) -> list[TouchpointEventsDay]:
    return service.compute_events_per_touchpoint_per_day(
        org_id=principal.org_id, start=start, end=end
    )


@router.get("/late-deliveries-per-week", response_model=list[LateDeliveriesWeek])
def read_late_deliveries_per_week(
    principal: ApiPrincipal, start: Start, end: End
) -> list[LateDeliveriesWeek]:
    return service.compute_late_deliveries_per_week(org_id=principal.org_id, start=start, end=end)


@router.get("/survey-scores", response_model=list[SurveyScore])
def read_survey_scores(
    principal: ApiPrincipal,
    db: DbSession,
    metric: SurveyMetricName,
    by: SurveyDimension,
    start: Start,
    end: End,
    grain: PeriodGrain = "week",
    survey_id: SurveyFilter = None,
    agent_id: AgentFilter = None,
    country: CountryFilter = None,
    segment: SegmentFilter = None,
) -> list[SurveyScore]:
    """NPS, CSAT, CES or response rate with a 95% interval per group and week, month or period."""
    return service.compute_survey_scores(
        db,
        org_id=principal.org_id,
        metric=metric,
        by=by,
        grain=grain,
        start=start,
        end=end,
        survey_id=survey_id,
        agent_id=agent_id,
        country=country,
        segment=segment,
    )


@router.get("/survey-score-change", response_model=list[SurveyScoreChange])
def read_survey_score_change(
    principal: ApiPrincipal,
    db: DbSession,
    metric: SurveyMetricName,
    by: SurveyDimension,
    a_start: Annotated[date, Query(description="first UTC day of period A")],
    a_end: Annotated[date, Query(description="UTC day after period A (exclusive)")],
    b_start: Annotated[date, Query(description="first UTC day of period B")],
    b_end: Annotated[date, Query(description="UTC day after period B (exclusive)")],
    survey_id: SurveyFilter = None,
    agent_id: AgentFilter = None,
    country: CountryFilter = None,
    segment: SegmentFilter = None,
) -> list[SurveyScoreChange]:
    """Each group's metric in periods A and B, the change B - A, its 95% interval and p-value."""
    return service.compute_survey_score_change(
        db,
        org_id=principal.org_id,
        metric=metric,
        by=by,
        a_start=a_start,
        a_end=a_end,
        b_start=b_start,
        b_end=b_end,
        survey_id=survey_id,
        agent_id=agent_id,
        country=country,
        segment=segment,
    )


@router.get("/nps-per-touchpoint-per-week", response_model=list[NpsWeek])
def read_nps_per_touchpoint_per_week(
    principal: ApiPrincipal, start: Start, end: End
) -> list[NpsWeek]:
    """NPS, promoter/passive/detractor shares and a 95% interval per touchpoint and week."""
    return service.compute_nps_per_touchpoint_per_week(
        org_id=principal.org_id, start=start, end=end
    )


@router.get("/csat-per-touchpoint-per-week", response_model=list[CsatWeek])
def read_csat_per_touchpoint_per_week(
    principal: ApiPrincipal, start: Start, end: End
) -> list[CsatWeek]:
    """CSAT (share of 4-5 answers) and a 95% interval per touchpoint and week."""
    return service.compute_csat_per_touchpoint_per_week(
        org_id=principal.org_id, start=start, end=end
    )


@router.get("/ces-per-touchpoint-per-week", response_model=list[CesWeek])
def read_ces_per_touchpoint_per_week(
    principal: ApiPrincipal, start: Start, end: End
) -> list[CesWeek]:
    """CES mean score (1-7) and a 95% interval per touchpoint and week."""
    return service.compute_ces_per_touchpoint_per_week(
        org_id=principal.org_id, start=start, end=end
    )


@router.get("/response-rate-per-touchpoint-per-week", response_model=list[ResponseRateWeek])
def read_response_rate_per_touchpoint_per_week(
    principal: ApiPrincipal, start: Start, end: End
) -> list[ResponseRateWeek]:
    """Survey invitations, complete answers and the response rate per touchpoint and week."""
    return service.compute_response_rate_per_touchpoint_per_week(
        org_id=principal.org_id, start=start, end=end
    )


@router.get("/follow-ups-per-week", response_model=list[FollowUpWeek])
def read_follow_ups_per_week(
    principal: ApiPrincipal, start: Start, end: End, by: FollowUpGrouping = "week"
) -> list[FollowUpWeek]:
    """Follow-ups per week opened (and owner or team): closed within 48 h, median and mean hours."""
    return service.compute_follow_ups_per_week(org_id=principal.org_id, start=start, end=end, by=by)


@router.get("/text-sentiment", response_model=list[TextSentiment])
def read_text_sentiment(
    principal: ApiPrincipal,
    db: DbSession,
    by: TextDimension,
    start: Start,
    end: End,
    grain: PeriodGrain = "week",
    source_kind: TextSourceFilter = None,
) -> list[TextSentiment]:
    """Negative, neutral and positive shares and the mean score of comments and messages per group."""
    return service.compute_text_sentiment(
        db,
        org_id=principal.org_id,
        by=by,
        start=start,
        end=end,
        grain=grain,
        source_kind=source_kind,
    )


@router.get("/text-emotions", response_model=list[TextEmotions])
def read_text_emotions(
    principal: ApiPrincipal,
    db: DbSession,
    by: TextDimension,
    start: Start,
    end: End,
    grain: PeriodGrain = "week",
    source_kind: TextSourceFilter = None,
) -> list[TextEmotions]:
    """Each emotion's mean probability and share of texts where present, per group and period."""
    return service.compute_text_emotions(
        db,
        org_id=principal.org_id,
        by=by,
        start=start,
        end=end,
        grain=grain,
        source_kind=source_kind,
    )


@router.get("/service-desk-measures", response_model=list[ServiceDeskMeasures])
def read_service_desk_measures(
    principal: ApiPrincipal,
    db: DbSession,
    by: ServiceDeskDimension,
    start: Start,
    end: End,
    grain: PeriodGrain = "week",
) -> list[ServiceDeskMeasures]:
    """First response and resolution times (median, p90), first-contact resolution, reopen rate
    and human vs bot responses per channel, team or agent and week, month or whole period."""
    return service.compute_service_desk_measures(
        db, org_id=principal.org_id, by=by, grain=grain, start=start, end=end
    )
