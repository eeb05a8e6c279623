"""SLA attainment as an Ibis metric: targets met in time per week, and channel, team or agent.

A target counts once it is decided: met (`*_met_at`) or breached (`*_breached_at`); met in time
is met and never breached. Still running, unbreached targets are left out; so are merged
conversations (their clocks are dropped) and conversations without a target of that kind.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import ibis
import ibis.expr.types as ir

from opencx.analytics import metrics as analytics_metrics
from opencx.analytics.engine import analytics_connection, query_rows
from opencx.analytics.tables import MOMENT
from opencx.conversations.schemas import SlaAttainmentRow
from opencx.errors import InvalidInput

MAX_DAYS = 3 * 366

SLA_GROUPS = {"channel": "channel", "team": "team", "agent": "agent_id"}


def _midnight(day: date) -> ir.TimestampScalar:
    return ibis.literal(datetime.combine(day, time(), tzinfo=UTC), type=MOMENT)


def sla_attainment_per_week(
    conversation_slas: ir.Table,
    conversations: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str | None = None,
) -> ir.Table:
    """First-response and resolution targets decided and met per ISO week of the clock start.

    `by` is channel, team or agent_id (the conversation's assignee); shares are NULL when no
    target of that kind was decided.
    """
    clocks = conversation_slas.filter(
        conversation_slas.org_id == org_id,
        conversation_slas.started_at >= _midnight(start),
        conversation_slas.started_at < _midnight(end),
    )
    owners = conversations.filter(
        conversations.org_id == org_id, conversations.merged_into_id.isnull()
    ).select(
        conversation_id=conversations.id,
        channel=conversations.channel,
        team=conversations.team,
        agent_id=conversations.assignee_id,
    )
    joined = clocks.join(owners, "conversation_id")
    keys = ["week_start", *([by] if by else [])]

    def decided(kind: str) -> ir.IntegerValue:
        target = joined[f"{kind}_target_minutes"].notnull()
        done = joined[f"{kind}_met_at"].notnull() | joined[f"{kind}_breached_at"].notnull()
        return ibis.ifelse(target & done, 1, 0)

    def met(kind: str) -> ir.IntegerValue:
        in_time = joined[f"{kind}_met_at"].notnull() & joined[f"{kind}_breached_at"].isnull()
        return ibis.ifelse(joined[f"{kind}_target_minutes"].notnull() & in_time, 1, 0)

    weekly = (
        joined.select(
            *keys[1:],
            week_start=joined.started_at.date().truncate("W"),
            first_response_decided=decided("first_response"),
            first_response_met=met("first_response"),
            resolution_decided=decided("resolution"),
            resolution_met=met("resolution"),
        )
        .group_by(keys)
        .aggregate(
            conversations=ibis._.count(),
            first_response_decided=ibis._.first_response_decided.sum(),
            first_response_met=ibis._.first_response_met.sum(),
            resolution_decided=ibis._.resolution_decided.sum(),
            resolution_met=ibis._.resolution_met.sum(),
        )
    )
    return weekly.mutate(
        first_response_attainment=weekly.first_response_met.cast("float64")
        / weekly.first_response_decided.nullif(0).cast("float64"),
        resolution_attainment=weekly.resolution_met.cast("float64")
        / weekly.resolution_decided.nullif(0).cast("float64"),
    )


def compute_sla_attainment(
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "channel",
    country: str | None = None,
    segment: str | None = None,
) -> list[SlaAttainmentRow]:
    """SLA attainment per week and channel, team or agent (agent: the assignee's user id); with
    a country or segment, of the conversations of customers in them."""
    if by not in SLA_GROUPS:
        raise InvalidInput("by", f"one of {', '.join(SLA_GROUPS)}")
    if end <= start:
        raise InvalidInput("end", "must be after start")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("end", f"the period may span at most {MAX_DAYS} days")
    column = SLA_GROUPS[by]
    with analytics_connection() as store:
        rows = query_rows(
            store,
            ("sla_attainment", org_id, start, end, column, country, segment),
            lambda: sla_attainment_per_week(
                store.table("conversation_slas"),
                analytics_metrics.of_customers(
                    store.table("conversations"),
                    store.table("customers"),
                    org_id=org_id,
                    country=country,
                    segment=segment,
                ),
                org_id=org_id,
                start=start,
                end=end,
                by=column,
            ).order_by(["week_start", column]),
        )
    return [
        SlaAttainmentRow.model_validate(
            {**row, "group": None if row[column] is None else str(row[column])}
        )
        for row in rows
    ]
