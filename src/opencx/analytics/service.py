"""Analytics use cases: metrics computed on the analytics store for one organization.

These read the analytics store (filled by the sync), never the operational one, so they take
no database session.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from sqlalchemy.orm import Session

from opencx.analytics import metrics
from opencx.analytics.engine import analytics_connection, query_rows, reused_connection
from opencx.analytics.schemas import (
    AgentFeedback,
    AgentFeedbackOverview,
    AgentFeedbackSummary,
    CesWeek,
    CsatWeek,
    CustomerFeelings,
    FeelingsWeek,
    FollowUpGrouping,
    FollowUpWeek,
    GroupKey,
    LateDeliveriesWeek,
    NpsWeek,
    ResponseRateWeek,
    ScoreChange,
    ScoreCount,
    ServiceDeskMeasures,
    ServiceDeskReport,
    SurveyScore,
    SurveyScoreChange,
    TextEmotions,
    TextSentiment,
    TouchpointEventsDay,
    TouchpointFeedback,
    UnitsSoldWeek,
)
from opencx.analytics.tables import ANALYTICS_TABLES
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.auth.schemas import Principal
from opencx.errors import InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.surveys import service as surveys
from opencx.text import EMOTIONS

MAX_DAYS = 3 * 366


def check_period(start: date, end: date, *, field: str = "end") -> None:
    """A half-open period [start, end) that runs forward and spans at most MAX_DAYS; else 422."""
    if end <= start:
        raise InvalidInput(field, f"must be after {field.removesuffix('end')}start")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(field, f"the period may span at most {MAX_DAYS} days")


def compute_units_sold_per_product_per_week(
    *, org_id: int, start: date, end: date
) -> list[UnitsSoldWeek]:
    """Units sold per product and ISO week for orders placed in [start, end)."""
    check_period(start, end)
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
    check_period(start, end)
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
    check_period(start, end)
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
SIGNIFICANCE = 0.05


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


def _change(difference: float, error: float, test_error: float | None = None) -> ScoreChange | None:
    """Normal test of a difference: `error` gives the interval, `test_error` (or it) the z."""
    test_error = error if test_error is None else test_error
    if error <= 0 or test_error <= 0:
        return None  # no spread in either sample: the normal approximation says nothing
    z = difference / test_error
    margin = Z_95 * error
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return ScoreChange(
        difference=difference,
        difference_low=difference - margin,
        difference_high=difference + margin,
        standard_error=error,
        z=z,
        p_value=p_value,
        significant=p_value < SIGNIFICANCE,
    )


def nps_change(a: tuple[int, int, int], b: tuple[int, int, int]) -> ScoreChange | None:
    """NPS B - A from (promoters, detractors, responses) of each: z-test, SE sqrt(se_a² + se_b²)."""

    def nps_and_error(promoters: int, detractors: int, responses: int) -> tuple[float, float]:
        # n² times the variance of the +1/0/-1 scores, in integers: no spread is exactly 0
        spread = responses * (promoters + detractors) - (promoters - detractors) ** 2
        nps = 100 * (promoters - detractors) / responses
        return nps, 100 * math.sqrt(spread / responses**3)

    nps_a, error_a = nps_and_error(*a)
    nps_b, error_b = nps_and_error(*b)
    return _change(nps_b - nps_a, math.hypot(error_a, error_b))


def share_change(hits_a: int, total_a: int, hits_b: int, total_b: int) -> ScoreChange | None:
    """Share B - A: two-proportion z-test (pooled share), interval from the unpooled error."""
    share_a, share_b = hits_a / total_a, hits_b / total_b
    pooled = (hits_a + hits_b) / (total_a + total_b)
    test_error = math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    error = math.sqrt(share_a * (1 - share_a) / total_a + share_b * (1 - share_b) / total_b)
    if error <= 0 < test_error:
        error = test_error  # 0 of n against n of n: the unpooled error alone would be 0
    return _change(share_b - share_a, error, test_error)


def mean_change(a: tuple[int, int, int], b: tuple[int, int, int]) -> ScoreChange | None:
    """Mean B - A from (count, sum, sum of squares) of each: Welch's error, normal approximation."""

    def mean_and_variance(total: int, score_sum: int, square_sum: int) -> tuple[float, float]:
        # The sample variance with an integer numerator: equal answers give exactly 0.
        spread = total * square_sum - score_sum * score_sum
        return score_sum / total, spread / (total * (total - 1))

    if a[0] < 2 or b[0] < 2:
        return None
    mean_a, variance_a = mean_and_variance(*a)
    mean_b, variance_b = mean_and_variance(*b)
    return _change(mean_b - mean_a, math.sqrt(variance_a / a[0] + variance_b / b[0]))


_BY_GROUP: dict[str, Callable[..., ir.Table]] = {
    "nps": metrics.nps_by_group,
    "csat": metrics.csat_by_group,
    "ces": metrics.ces_by_group,
    "response_rate": metrics.response_rate_by_group,
}
_NO_GROUP = {
    "all": "All responses",
    "touchpoint": "No touchpoint",
    "channel": "No channel",
    "agent": "No agent",
    "team": "No team",
    "country": "Unknown country",
    "segment": "No segment",
    "survey": "No survey",
    "language": "Unknown language",
}


def _check_choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidInput(field, f"must be one of {', '.join(choices)}")


def _score_rows(
    *,
    org_id: int,
    metric: str,
    by: str,
    grain: str,
    start: date,
    end: date,
    survey_id: int | None,
    agent_id: int | None,
    country: str | None = None,
    segment: str | None = None,
) -> list[dict[str, Any]]:
    with analytics_connection() as store:

        def expression() -> ir.Table:
            responses = store.table("survey_responses")
            tables = (
                [store.table("survey_invitations"), responses]
                if metric == "response_rate"
                else [responses]
            )
            return _BY_GROUP[metric](
                *tables,
                store.table("customers"),
                org_id=org_id,
                start=start,
                end=end,
                by=by,
                grain=grain,
                survey_id=survey_id,
                agent_id=agent_id,
                country=country,
                segment=segment,
            ).order_by(["period_start", "group_key"])

        key = (
            "survey_scores",
            org_id,
            metric,
            by,
            grain,
            start,
            end,
            survey_id,
            agent_id,
            country,
            segment,
        )
        return query_rows(store, key, expression)


def _score(metric: str, by: str, label: str, row: dict[str, Any]) -> SurveyScore:
    fields: dict[str, Any] = {
        "metric": metric,
        "by": by,
        "key": row["group_key"],
        "label": label,
        "period_start": row["period_start"],
        "responses": row["responses"],
    }
    if metric == "nps":
        low, high = nps_interval(row["promoters"], row["detractors"], row["responses"])
        shares = ("promoters", "passives", "detractors")
        fields |= {name: row[name] for name in shares}
        fields |= {f"{name[:-1]}_share": row[f"{name[:-1]}_share"] for name in shares}
        fields |= {"value": row["nps"], "low": low, "high": high}
    elif metric == "csat":
        low, high = share_interval(row["satisfied"], row["responses"])
        fields |= {"satisfied": row["satisfied"], "value": row["satisfied_share"]}
        fields |= {"low": low, "high": high}
    elif metric == "ces":
        bounds = mean_interval(row["responses"], row["score_sum"], row["score_square_sum"])
        fields |= {"value": row["mean_score"], "low": bounds and bounds[0]}
        fields |= {"high": bounds and bounds[1]}
    else:
        low, high = share_interval(row["responses"], row["invitations"])
        fields |= {"invitations": row["invitations"], "value": row["response_rate"]}
        fields |= {"low": low, "high": high}
    # Strict: the engine gives typed values, and strict validation skips coercion (3x faster).
    return SurveyScore.model_validate(fields, strict=True)


def _group_labels(session: Session, *, org_id: int, by: str) -> dict[GroupKey, str]:
    """Readable names of the groups whose keys are ids; agents' names come from auth."""
    if by == "touchpoint":
        return {t.id: t.name for t in journeys.list_touchpoints(session, org_id=org_id)}
    if by == "agent":
        return {user.id: user.name for user in auth.list_users(session, org_id=org_id)}
    if by == "survey":
        return {survey.id: survey.name for survey in surveys.list_surveys(session, org_id=org_id)}
    return {}


def _check_filters(
    session: Session, *, org_id: int, survey_id: int | None, agent_id: int | None
) -> None:
    """Another organization's survey or agent is not found (404), rather than an empty answer."""
    if survey_id is not None:
        surveys.get_survey(session, org_id=org_id, survey_id=survey_id)
    if agent_id is not None and agent_id not in {
        user.id for user in auth.list_users(session, org_id=org_id)
    }:
        raise NotFound("agent", agent_id)


def _label(labels: dict[GroupKey, str], by: str, key: GroupKey) -> str:
    if key is None or by == "all":
        return _NO_GROUP[by]
    return labels.get(key, f"#{key}" if isinstance(key, int) else str(key))


def compute_survey_scores(
    session: Session,
    *,
    org_id: int,
    metric: str,
    by: str,
    grain: str,
    start: date,
    end: date,
    survey_id: int | None = None,
    agent_id: int | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> list[SurveyScore]:
    """A survey metric with its 95% interval per group of `by` and period of `grain` in [start, end).

    `by="all"` makes one group of every response; `country` and `segment` keep only the responses
    (invitations, for response_rate) of customers in them.
    """
    _check_choice("metric", metric, tuple(_BY_GROUP))
    _check_choice("by", by, metrics.SURVEY_DIMENSIONS)
    _check_choice("grain", grain, metrics.PERIOD_GRAINS)
    check_period(start, end)
    _check_filters(session, org_id=org_id, survey_id=survey_id, agent_id=agent_id)
    rows = _score_rows(
        org_id=org_id,
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
    labels = _group_labels(session, org_id=org_id, by=by)
    return [_score(metric, by, _label(labels, by, row["group_key"]), row) for row in rows]


def _score_change(metric: str, a: SurveyScore, b: SurveyScore) -> ScoreChange | None:
    if metric == "nps":
        return nps_change(
            (a.promoters or 0, a.detractors or 0, a.responses),
            (b.promoters or 0, b.detractors or 0, b.responses),
        )
    if metric == "csat":
        return share_change(a.satisfied or 0, a.responses, b.satisfied or 0, b.responses)
    if metric == "response_rate":
        return share_change(a.responses, a.invitations or 0, b.responses, b.invitations or 0)
    return None  # CES: computed from the sums, see compute_survey_score_change


def compute_survey_score_change(
    session: Session,
    *,
    org_id: int,
    metric: str,
    by: str,
    a_start: date,
    a_end: date,
    b_start: date,
    b_end: date,
    survey_id: int | None = None,
    agent_id: int | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> list[SurveyScoreChange]:
    """Each group's metric in period A and in period B, the change B - A and its significance."""
    _check_choice("metric", metric, tuple(_BY_GROUP))
    _check_choice("by", by, metrics.SURVEY_DIMENSIONS)
    check_period(a_start, a_end, field="a_end")
    check_period(b_start, b_end, field="b_end")
    _check_filters(session, org_id=org_id, survey_id=survey_id, agent_id=agent_id)
    periods = {}
    for name, start, end in (("a", a_start, a_end), ("b", b_start, b_end)):
        rows = _score_rows(
            org_id=org_id,
            metric=metric,
            by=by,
            grain="none",
            start=start,
            end=end,
            survey_id=survey_id,
            agent_id=agent_id,
            country=country,
            segment=segment,
        )
        periods[name] = {row["group_key"]: row for row in rows}
    labels = _group_labels(session, org_id=org_id, by=by)
    keys = sorted(
        periods["a"].keys() | periods["b"].keys(),
        key=lambda key: (
            key is None,
            "" if key is None else key if isinstance(key, str) else f"{key:020d}",
        ),
    )
    changes = []
    for key in keys:
        label = _label(labels, by, key)
        row_a, row_b = periods["a"].get(key), periods["b"].get(key)
        a = _score(metric, by, label, row_a) if row_a else None
        b = _score(metric, by, label, row_b) if row_b else None
        change = None
        if row_a and row_b and a and b:
            change = (
                mean_change(
                    (a.responses, row_a["score_sum"], row_a["score_square_sum"]),
                    (b.responses, row_b["score_sum"], row_b["score_square_sum"]),
                )
                if metric == "ces"
                else _score_change(metric, a, b)
            )
        changes.append(
            SurveyScoreChange(metric=metric, by=by, key=key, label=label, a=a, b=b, change=change)
        )
    return changes


MAX_FEEDBACK_WEEKS = 52


def _feedback_periods(today: date, weeks: int) -> tuple[date, date, date, list[date]]:
    """This period (ISO weeks up to today), the same number of whole weeks before, its Mondays."""
    if not 1 <= weeks <= MAX_FEEDBACK_WEEKS:
        raise InvalidInput("weeks", f"must be between 1 and {MAX_FEEDBACK_WEEKS}")
    start = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    end = today + timedelta(days=1)
    previous_start = start - timedelta(weeks=weeks)
    return previous_start, start, end, [start + timedelta(weeks=n) for n in range(weeks)]


def _agent_change(
    session: Session,
    *,
    org_id: int,
    metric: str,
    periods: tuple[date, date, date],
    agent_id: int | None = None,
) -> dict[GroupKey, SurveyScoreChange]:
    previous_start, start, end = periods
    changes = compute_survey_score_change(
        session,
        org_id=org_id,
        metric=metric,
        by="agent",
        a_start=previous_start,
        a_end=start,
        b_start=start,
        b_end=end,
        agent_id=agent_id,
    )
    return {change.key: change for change in changes}


def _weekly(
    session: Session, *, org_id: int, metric: str, by: str, start: date, end: date, **filters: Any
) -> dict[tuple[GroupKey, date], SurveyScore]:
    rows = compute_survey_scores(
        session, org_id=org_id, metric=metric, by=by, grain="week", start=start, end=end, **filters
    )
    return {(row.key, row.period_start): row for row in rows}


def get_agent_feedback_overview(
    session: Session, *, org_id: int, viewer: Principal, today: date, weeks: int = 12
) -> AgentFeedbackOverview:
    """Agents with survey feedback: NPS and CSAT this period, change vs the previous, NPS trend.

    An agent (role) sees only their own row; managers, admins and analysts see everyone.
    """
    previous_start, start, end, mondays = _feedback_periods(today, weeks)
    periods = (previous_start, start, end)
    nps = _agent_change(session, org_id=org_id, metric="nps", periods=periods)
    csat = _agent_change(session, org_id=org_id, metric="csat", periods=periods)
    trend = _weekly(session, org_id=org_id, metric="nps", by="agent", start=start, end=end)
    names = {user.id: user.name for user in auth.list_users(session, org_id=org_id)}
    shown = [key for key in names if key in nps or key in csat]
    if viewer.role == Role.agent:
        shown = [key for key in shown if key == viewer.user_id]
    agents = [
        AgentFeedbackSummary(
            user_id=user_id,
            name=names[user_id],
            nps=nps.get(user_id),
            csat=csat.get(user_id),
            nps_trend=[
                row.value if (row := trend.get((user_id, monday))) else None for monday in mondays
            ],
        )
        for user_id in sorted(shown, key=lambda user_id: names[user_id].lower())
    ]
    return AgentFeedbackOverview(
        start=start, end=end, previous_start=previous_start, weeks=mondays, agents=agents
    )


def get_agent_feedback(
    session: Session,
    *,
    org_id: int,
    viewer: Principal,
    user_id: int,
    today: date,
    weeks: int = 12,
) -> AgentFeedback:
    """One agent's NPS and CSAT: per week, per touchpoint, and the change vs the previous period.

    An agent may see only their own page: another's answers 404, as for an unknown user.
    """
    names = {user.id: user.name for user in auth.list_users(session, org_id=org_id)}
    if user_id not in names or (viewer.role == Role.agent and viewer.user_id != user_id):
        raise NotFound("agent", user_id)
    previous_start, start, end, mondays = _feedback_periods(today, weeks)
    periods = (previous_start, start, end)
    mine = {"agent_id": user_id}
    trends = {
        metric: _weekly(
            session, org_id=org_id, metric=metric, by="agent", start=start, end=end, **mine
        )
        for metric in ("nps", "csat")
    }
    places: dict[str, dict[GroupKey, SurveyScore]] = {
        metric: {
            row.key: row
            for row in compute_survey_scores(
                session,
                org_id=org_id,
                metric=metric,
                by="touchpoint",
                grain="none",
                start=start,
                end=end,
                agent_id=user_id,
            )
        }
        for metric in ("nps", "csat")
    }
    touchpoints = [
        TouchpointFeedback(
            touchpoint_id=key if isinstance(key, int) else None,
            label=(places["nps"].get(key) or places["csat"][key]).label,
            nps=places["nps"].get(key),
            csat=places["csat"].get(key),
        )
        for key in places["nps"].keys() | places["csat"].keys()
    ]
    touchpoints.sort(key=lambda place: (place.touchpoint_id is None, place.label.lower()))
    return AgentFeedback(
        user_id=user_id,
        name=names[user_id],
        start=start,
        end=end,
        previous_start=previous_start,
        weeks=mondays,
        nps=_agent_change(session, org_id=org_id, metric="nps", periods=periods, **mine).get(
            user_id
        ),
        csat=_agent_change(session, org_id=org_id, metric="csat", periods=periods, **mine).get(
            user_id
        ),
        nps_trend=[trends["nps"].get((user_id, monday)) for monday in mondays],
        csat_trend=[trends["csat"].get((user_id, monday)) for monday in mondays],
        touchpoints=touchpoints,
        comments_path=f"/surveys/comments?agent={user_id}",
    )


def _survey_rows(
    metric: Callable[..., ir.Table],
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None,
) -> list[dict[str, Any]]:
    check_period(start, end)
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
    check_period(start, end)
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
    check_period(start, end)
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
    check_period(start, end)
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


# ---- how customers feel: sentiment and emotions of comments and messages ----------------------

_TEXT_METRICS: dict[str, Callable[..., ir.Table]] = {
    "sentiment": metrics.text_sentiment_by_group,
    "emotions": metrics.text_emotions_by_group,
}


def _text_rows(
    *,
    org_id: int,
    metric: str,
    by: str,
    grain: str,
    start: date,
    end: date,
    source_kind: str | None,
    country: str | None = None,
    segment: str | None = None,
) -> list[dict[str, Any]]:
    with analytics_connection() as store:

        def of_chosen(name: str) -> ir.Table:
            # The texts of survey answers and conversations of customers in the country and
            # segment (read from the merge survivor's profile), when either is given.
            return metrics.of_customers(
                store.table(name),
                store.table("customers"),
                org_id=org_id,
                country=country,
                segment=segment,
            )

        def expression() -> ir.Table:
            return _TEXT_METRICS[metric](
                store.table("text_analyses"),
                of_chosen("survey_responses"),
                store.table("conversation_messages"),
                of_chosen("conversations"),
                org_id=org_id,
                start=start,
                end=end,
                by=by,
                grain=grain,
                source_kind=source_kind,
            ).order_by(["period_start", "group_key"])

        key = ("text", org_id, metric, by, grain, start, end, source_kind, country, segment)
        return query_rows(store, key, expression)


def _check_text_query(
    *, by: str, grain: str, start: date, end: date, source_kind: str | None
) -> None:
    _check_choice("by", by, metrics.TEXT_DIMENSIONS)
    _check_choice("grain", grain, metrics.PERIOD_GRAINS)
    if source_kind is not None:
        _check_choice("source_kind", source_kind, metrics.TEXT_SOURCES)
    check_period(start, end)


SENTIMENT_NAMES = ("negative", "neutral", "positive")


def _text_sentiment(by: str, label: str, row: dict[str, Any]) -> TextSentiment:
    return TextSentiment(
        by=by,
        key=row["group_key"],
        label=label,
        period_start=row["period_start"],
        texts=row["texts"],
        **{name: row[name] for name in SENTIMENT_NAMES},
        **{f"{name}_share": row[f"{name}_share"] for name in SENTIMENT_NAMES},
        mean_score=row["mean_score"],
    )


def _text_emotions(by: str, label: str, row: dict[str, Any]) -> TextEmotions:
    return TextEmotions(
        by=by,
        key=row["group_key"],
        label=label,
        period_start=row["period_start"],
        texts=row["texts"],
        mean={name: row[f"{name}_mean"] for name in EMOTIONS},
        share={name: row[f"{name}_share"] for name in EMOTIONS},
    )


def compute_text_sentiment(
    session: Session,
    *,
    org_id: int,
    by: str,
    start: date,
    end: date,
    grain: str = "week",
    source_kind: str | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> list[TextSentiment]:
    """Share of negative, neutral and positive texts and the mean score per group and period;
    with a country or segment, of the texts of customers in them."""
    _check_text_query(by=by, grain=grain, start=start, end=end, source_kind=source_kind)
    rows = _text_rows(
        org_id=org_id,
        metric="sentiment",
        by=by,
        grain=grain,
        start=start,
        end=end,
        source_kind=source_kind,
        country=country,
        segment=segment,
    )
    labels = _group_labels(session, org_id=org_id, by=by)
    return [_text_sentiment(by, _label(labels, by, row["group_key"]), row) for row in rows]


def compute_text_emotions(
    session: Session,
    *,
    org_id: int,
    by: str,
    start: date,
    end: date,
    grain: str = "week",
    source_kind: str | None = None,
) -> list[TextEmotions]:
    """Mean probability and share present of each of the eight emotions per group and period."""
    _check_text_query(by=by, grain=grain, start=start, end=end, source_kind=source_kind)
    rows = _text_rows(
        org_id=org_id,
        metric="emotions",
        by=by,
        grain=grain,
        start=start,
        end=end,
        source_kind=source_kind,
    )
    labels = _group_labels(session, org_id=org_id, by=by)
    return [_text_emotions(by, _label(labels, by, row["group_key"]), row) for row in rows]


def combine_text_sentiment(rows: list[TextSentiment], week: date) -> TextSentiment | None:
    """The groups of one period added up (counts and score sums are exact); None: no texts."""
    texts = sum(row.texts for row in rows)
    if not texts:
        return None
    counts = {name: sum(getattr(row, name) for row in rows) for name in SENTIMENT_NAMES}
    score_sum = sum(row.mean_score * row.texts for row in rows)
    return TextSentiment(
        by="all",
        key=None,
        label="All",
        period_start=week,
        texts=texts,
        **counts,
        **{f"{name}_share": count / texts for name, count in counts.items()},
        mean_score=score_sum / texts,
    )


def get_customer_feelings(
    session: Session,
    *,
    org_id: int,
    viewer: Principal,
    today: date,
    weeks: int = 12,
    by: str = "touchpoint",
    source_kind: str | None = None,
) -> CustomerFeelings:
    """How customers feel over the last `weeks` ISO weeks: sentiment per week, sentiment and
    emotions per group of `by`, and sentiment per agent (an agent sees only their own row)."""
    _, start, end, mondays = _feedback_periods(today, weeks)
    weekly = compute_text_sentiment(
        session,
        org_id=org_id,
        by="channel",
        start=start,
        end=end,
        grain="week",
        source_kind=source_kind,
    )
    whole: dict[str, Any] = {
        "start": start,
        "end": end,
        "grain": "none",
        "source_kind": source_kind,
    }
    sentiment = compute_text_sentiment(session, org_id=org_id, by=by, **whole)
    emotions = compute_text_emotions(session, org_id=org_id, by=by, **whole)
    by_agent = compute_text_sentiment(session, org_id=org_id, by="agent", **whole)
    if viewer.role == Role.agent:
        by_agent = [row for row in by_agent if row.key == viewer.user_id]
        if by == "agent":
            sentiment = [row for row in sentiment if row.key == viewer.user_id]
            emotions = [row for row in emotions if row.key == viewer.user_id]
    return CustomerFeelings(
        start=start,
        end=end,
        by=by,
        source_kind=source_kind,
        weeks=[
            FeelingsWeek(
                week_start=monday,
                sentiment=combine_text_sentiment(
                    [r for r in weekly if r.period_start == monday], monday
                ),
            )
            for monday in mondays
        ],
        sentiment=sentiment,
        emotions=emotions,
        by_agent=by_agent,
    )


# --- service desk ---------------------------------------------------------------------------

_NO_DESK_GROUP = {"channel": "No channel", "team": "No team", "agent": "Unassigned", "all": "All"}


def _desk_rows(
    *,
    org_id: int,
    by: str,
    grain: str,
    start: date,
    end: date,
    country: str | None = None,
    segment: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with analytics_connection() as store:

        def build(metric: Callable[..., ir.Table]) -> Callable[[], ir.Table]:
            # Conversations of customers in the country and segment, when either is given.
            return lambda: metric(
                metrics.of_customers(
                    store.table("conversations"),
                    store.table("customers"),
                    org_id=org_id,
                    country=country,
                    segment=segment,
                ),
                store.table("conversation_messages"),
                org_id=org_id,
                start=start,
                end=end,
                by=by,
                grain=grain,
            )

        question = (org_id, by, grain, start, end, country, segment)
        measured = query_rows(
            store, ("conversation_measures", *question), build(metrics.conversation_measures)
        )
        authored = query_rows(
            store, ("response_authors", *question), build(metrics.response_authors)
        )
    return measured, authored


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _desk_measures(
    by: str, label: str, key: GroupKey, period_start: date, measured: dict[str, Any] | None,
    authored: dict[str, Any] | None,
) -> ServiceDeskMeasures:  # fmt: skip
    fields: dict[str, Any] = {"by": by, "key": key, "label": label, "period_start": period_start}
    if measured is not None:
        answered, resolved = measured["answered"], measured["resolved"]
        fields |= {
            name: measured[name]
            for name in ("conversations", "answered", "resolved", "ever_resolved", "reopened")
        }
        fields |= {
            "first_response_median_seconds": _ratio(
                measured["response_median_seconds_sum"], measured["response_median_rows"]
            ),
            "first_response_p90_seconds": measured["response_p90_seconds"] if answered else None,
            "first_response_mean_seconds": _ratio(measured["response_seconds_sum"], answered),
            "resolution_median_seconds": _ratio(
                measured["resolution_median_seconds_sum"], measured["resolution_median_rows"]
            ),
            "resolution_p90_seconds": measured["resolution_p90_seconds"] if resolved else None,
            "resolution_mean_seconds": _ratio(measured["resolution_seconds_sum"], resolved),
            "first_contact_resolved": measured["first_contact_resolved"],
            "first_contact_resolution_rate": _ratio(measured["first_contact_resolved"], resolved),
            "reopen_rate": _ratio(measured["reopened"], measured["ever_resolved"]),
        }
    if authored is not None:
        fields |= {
            "responses": authored["responses"],
            "human_responses": authored["human_responses"],
            "bot_responses": authored["bot_responses"],
            "human_share": authored["human_share"],
        }
    return ServiceDeskMeasures.model_validate(fields)


def _desk_key_order(key: GroupKey) -> tuple[bool, str]:
    return key is None, "" if key is None else key if isinstance(key, str) else f"{key:020d}"


def compute_service_desk_measures(
    session: Session,
    *,
    org_id: int,
    by: str,
    grain: str,
    start: date,
    end: date,
    country: str | None = None,
    segment: str | None = None,
) -> list[ServiceDeskMeasures]:
    """First response and resolution times (median, p90), first-contact resolution, reopen rate
    and the share of human responses per channel, team or agent and week, month or period; with
    a country or segment, of the conversations of customers in them."""
    _check_choice("by", by, metrics.SERVICE_DESK_DIMENSIONS)
    _check_choice("grain", grain, metrics.PERIOD_GRAINS)
    check_period(start, end)
    measured, authored = _desk_rows(
        org_id=org_id, by=by, grain=grain, start=start, end=end, country=country, segment=segment
    )
    by_key = {(row["group_key"], row["period_start"]): row for row in measured}
    authored_by_key = {(row["group_key"], row["period_start"]): row for row in authored}
    labels = _group_labels(session, org_id=org_id, by=by)
    found = []
    for key, period_start in sorted(
        by_key.keys() | authored_by_key.keys(),
        key=lambda pair: (pair[1], _desk_key_order(pair[0])),
    ):
        if key is None:
            label = _NO_DESK_GROUP[by]
        else:
            label = labels.get(key, f"#{key}" if isinstance(key, int) else str(key))
        found.append(
            _desk_measures(
                by,
                label,
                key,
                period_start,
                by_key.get((key, period_start)),
                authored_by_key.get((key, period_start)),
            )
        )
    return found


def get_service_desk_report(
    session: Session, *, org_id: int, by: str, today: date, weeks: int = 12
) -> ServiceDeskReport:
    """The desk over the last `weeks` ISO weeks up to today: in total, per group, and per week."""
    _, start, end, mondays = _feedback_periods(today, weeks)

    def measured(by: str, grain: str) -> list[ServiceDeskMeasures]:
        return compute_service_desk_measures(
            session, org_id=org_id, by=by, grain=grain, start=start, end=end
        )

    totals = measured("all", "none")
    groups = measured(by, "none")
    weekly = {row.period_start: row for row in measured("all", "week")}
    return ServiceDeskReport(
        by=by,  # type: ignore[arg-type]  # checked by compute_service_desk_measures
        start=start,
        end=end,
        weeks=mondays,
        total=totals[0] if totals else None,
        groups=groups,
        trend=[weekly.get(monday) for monday in mondays],
    )


def sharing_one_connection() -> AbstractContextManager[None]:
    """A block in which every metric asked shares one connection to the store (for pages that
    ask many questions at once)."""
    return reused_connection()


def get_data_stamp(*, org_id: int) -> str:
    """A short text that changes whenever the sync copies, changes or removes rows of the
    organization in any table of the store: the rows and the newest update of each, in one
    query, cheap enough for a page to poll."""
    names = [table.name for table in ANALYTICS_TABLES]
    with analytics_connection() as store:

        def expression() -> ir.Table:
            parts = []
            for name in names:
                table = store.table(name)
                mine = table.filter(table.org_id == org_id)
                parts.append(
                    mine.aggregate(
                        table_name=ibis.literal(name),
                        rows=mine.count().cast("int64"),
                        newest=mine.updated_at.max(),
                    )
                )
            return ibis.union(*parts, distinct=False)

        rows = query_rows(store, ("data_stamp", org_id), expression)
    held = {row["table_name"]: row for row in rows}

    def part(row: dict[str, Any]) -> str:
        return f"{row['rows']}.{'' if row['newest'] is None else row['newest'].isoformat()}"

    return "|".join(part(held[name]) for name in names)
