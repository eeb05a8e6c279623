"""Analytics use cases: metrics computed on the analytics store for one organization.

These read the analytics store (filled by the sync), never the operational one, so they take
no database session.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import ibis.expr.types as ir

from opencx.analytics import metrics
from opencx.analytics.engine import analytics_connection
from opencx.analytics.schemas import (
    CesWeek,
    CsatWeek,
    FollowUpGrouping,
    FollowUpWeek,
    LateDeliveriesWeek,
    NpsWeek,
    ResponseRateWeek,
    ScoreCount,
    TouchpointEventsDay,
    UnitsSoldWeek,
)
from opencx.errors import InvalidInput

MAX_DAYS = 3 * 366


def _check_period(start: date, end: date) -> None:
    if end <= start:
        raise InvalidInput("end", "must be after start")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("end", f"the period may span at most {MAX_DAYS} days")


def compute_units_sold_per_product_per_week(
    *, org_id: int, start: date, end: date
) -> list[UnitsSoldWeek]:
    """Units sold per product and ISO week for orders placed in [start, end)."""
    _check_period(start, end)
    with analytics_connection() as store:
        rows = (
            metrics.units_sold_per_product_per_week(
                store.table("order_lines"),
                store.table("orders"),
                store.table("products"),
                org_id=org_id,
                start=start,
                end=end,
            )
            .order_by(["week_start", "product_id"])
            .to_pyarrow()
            .to_pylist()
        )
    return [UnitsSoldWeek.model_validate(row) for row in rows]


def compute_events_per_touchpoint_per_day(
    *, org_id: int, start: date, end: date
) -> list[TouchpointEventsDay]:
    """Events and distinct customers per touchpoint and UTC day in [start, end)."""
    _check_period(start, end)
    with analytics_connection() as store:
        rows = (
            metrics.events_per_touchpoint_per_day(
                store.table("events"),
                store.table("touchpoints"),
                org_id=org_id,
                start=start,
                end=end,
            )
            .order_by(["day", "touchpoint_id"])
            .to_pyarrow()
            .to_pylist()
        )
    return [TouchpointEventsDay.model_validate(row) for row in rows]


def compute_late_deliveries_per_week(
    *, org_id: int, start: date, end: date, as_of: datetime | None = None
) -> list[LateDeliveriesWeek]:
    """Deliveries and late ones per ISO week of the promised date in [start, end), as of now."""
    _check_period(start, end)
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInput("as_of", "must include a timezone")
    with analytics_connection() as store:
        rows = (
            metrics.late_deliveries_per_week(
                store.table("deliveries"),
                org_id=org_id,
                start=start,
                end=end,
                as_of=as_of or datetime.now(UTC),
            )
            .order_by("week_start")
            .to_pyarrow()
            .to_pylist()
        )
    return [LateDeliveriesWeek.model_validate(row) for row in rows]


Z_95 = 1.959963984540054


def nps_interval(promoters: int, detractors: int, responses: int) -> tuple[float, float]:
    """The 95% confidence interval of an NPS (normal approximation of the difference of shares).

    Each answer scores +1, 0 or -1; the NPS is 100 times their mean, so its standard error is
    100 * sqrt((p + d - (p - d)^2) / n). The bounds are clipped to [-100, 100].
    """
    p, d = promoters / responses, detractors / responses
    margin = 100 * Z_95 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / responses)
    nps = 100 * (p - d)
    return max(nps - margin, -100.0), min(nps + margin, 100.0)


def compute_nps_per_touchpoint_per_week(
    *, org_id: int, start: date, end: date, survey_id: int | None = None
) -> list[NpsWeek]:
    """NPS with its 95% interval per touchpoint and ISO week of responses in [start, end)."""
    weeks = []
    for row in _survey_rows(
        metrics.nps_per_touchpoint_per_week,
        org_id=org_id,
        start=start,
        end=end,
        survey_id=survey_id,
    ):
        low, high = nps_interval(row["promoters"], row["detractors"], row["responses"])
        weeks.append(NpsWeek.model_validate({**row, "nps_low": low, "nps_high": high}))
    return weeks


def share_interval(hits: int, total: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a share (sound for small samples and shares near 0 or 1)."""
    share = hits / total
    z2 = Z_95 * Z_95
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    margin = Z_95 * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total))
    margin /= 1 + z2 / total
    return max(centre - margin, 0.0), min(centre + margin, 1.0)


def mean_interval(total: int, score_sum: int, square_sum: int) -> tuple[float, float] | None:
    """The 95% interval of a mean from its count, sum and sum of squares; None for one value."""
    if total < 2:
        return None
    mean = score_sum / total
    variance = max((square_sum - total * mean * mean) / (total - 1), 0.0)
    margin = Z_95 * math.sqrt(variance / total)
    return mean - margin, mean + margin


def _survey_rows(
    metric: Callable[..., ir.Table],
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None,
) -> list[dict[str, Any]]:
    _check_period(start, end)
    with analytics_connection() as store:
        rows: list[dict[str, Any]] = (
            metric(
                store.table("survey_responses"),
                org_id=org_id,
                start=start,
                end=end,
                survey_id=survey_id,
            )
            .order_by(["week_start", "touchpoint_id"])
            .to_pyarrow()
            .to_pylist()
        )
    return rows


def compute_csat_per_touchpoint_per_week(
    *, org_id: int, start: date, end: date, survey_id: int | None = None
) -> list[CsatWeek]:
    """CSAT (share of 4-5) with its 95% interval per touchpoint and ISO week in [start, end)."""
    weeks = []
    for row in _survey_rows(
        metrics.csat_per_touchpoint_per_week,
        org_id=org_id,
        start=start,
        end=end,
        survey_id=survey_id,
    ):
        low, high = share_interval(row["satisfied"], row["responses"])
        weeks.append(CsatWeek.model_validate({**row, "share_low": low, "share_high": high}))
    return weeks


def compute_ces_per_touchpoint_per_week(
    *, org_id: int, start: date, end: date, survey_id: int | None = None
) -> list[CesWeek]:
    """CES mean with its 95% interval per touchpoint and ISO week in [start, end)."""
    weeks = []
    for row in _survey_rows(
        metrics.ces_per_touchpoint_per_week,
        org_id=org_id,
        start=start,
        end=end,
        survey_id=survey_id,
    ):
        bounds = mean_interval(row["responses"], row["score_sum"], row["score_square_sum"])
        low, high = bounds if bounds is not None else (None, None)
        weeks.append(CesWeek.model_validate({**row, "mean_low": low, "mean_high": high}))
    return weeks


def compute_response_rate_per_touchpoint_per_week(
    *, org_id: int, start: date, end: date, survey_id: int | None = None
) -> list[ResponseRateWeek]:
    """Invitations and complete answers per touchpoint and ISO week of invitation in [start, end)."""
    _check_period(start, end)
    with analytics_connection() as store:
        rows: list[dict[str, Any]] = (
            metrics.response_rate_per_touchpoint_per_week(
                store.table("survey_invitations"),
                store.table("survey_responses"),
                org_id=org_id,
                start=start,
                end=end,
                survey_id=survey_id,
            )
            .order_by(["week_start", "touchpoint_id"])
            .to_pyarrow()
            .to_pylist()
        )
    weeks = []
    for row in rows:
        low, high = share_interval(row["responses"], row["invitations"])
        weeks.append(ResponseRateWeek.model_validate({**row, "rate_low": low, "rate_high": high}))
    return weeks


FOLLOW_UP_GROUPS: dict[str, str | None] = {"week": None, "owner": "owner_id", "team": "team"}


def compute_follow_ups_per_week(
    *, org_id: int, start: date, end: date, by: FollowUpGrouping = "week"
) -> list[FollowUpWeek]:
    """Loop closed within 48 h (with a 95% Wilson interval) and time to close, per week opened."""
    _check_period(start, end)
    column = FOLLOW_UP_GROUPS[by]
    with analytics_connection() as store:
        rows: list[dict[str, Any]] = (
            metrics.follow_ups_per_week(
                store.table("survey_follow_ups"), org_id=org_id, start=start, end=end, by=column
            )
            .order_by(["week_start", *([column] if column else [])])
            .to_pyarrow()
            .to_pylist()
        )
    weeks = []
    for row in rows:
        low, high = share_interval(row["closed_within_48h"], row["follow_ups"])
        closed, middle = row["closed"], row["median_rows"]
        weeks.append(
            FollowUpWeek.model_validate(
                {
                    **row,
                    "share_low": low,
                    "share_high": high,
                    "median_hours_to_close": row["median_seconds_sum"] / middle / 3600
                    if middle
                    else None,
                    "mean_hours_to_close": row["close_seconds_sum"] / closed / 3600
                    if closed
                    else None,
                }
            )
        )
    return weeks


def compute_score_distribution_per_survey(
    *, org_id: int, start: date, end: date, survey_id: int | None = None
) -> list[ScoreCount]:
    """Scored responses per survey and score submitted in [start, end); one survey when given."""
    _check_period(start, end)
    with analytics_connection() as store:
        rows: list[dict[str, Any]] = (
            metrics.score_distribution_per_survey(
                store.table("survey_responses"),
                org_id=org_id,
                start=start,
                end=end,
                survey_id=survey_id,
            )
            .order_by(["survey_id", "score"])
            .to_pyarrow()
            .to_pylist()
        )
    return [ScoreCount.model_validate(row) for row in rows]
