"""Display helpers of the templates: moments, days and the monthly activity of a timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from opencx.customers.timeline import TimelineEntry
from opencx.web.templating import format_day, format_moment, monthly_activity

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def entry(kind: str, occurred_at: datetime) -> TimelineEntry:
    return TimelineEntry(occurred_at=occurred_at, kind=kind, title=kind, source_id="1")


def test_moments_and_days_are_shown_in_utc() -> None:
    amsterdam = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 1, 0, 30, tzinfo=amsterdam)
    assert format_moment(moment) == "2025-12-31 23:30 UTC"
    assert format_day(moment) == "2025-12-31"
    assert format_day(date(2026, 2, 3)) == "2026-02-03"
    assert format_moment(None) == format_day(None) == "—"


def test_monthly_activity_counts_per_kind_over_the_last_twelve_months() -> None:
    # given entries this month, across the new year, and older than the window
    entries = [
        entry("order", NOW),
        entry("order", datetime(2026, 3, 1, tzinfo=UTC)),
        entry("event", datetime(2026, 1, 31, 23, 59, tzinfo=UTC)),
        entry("event", datetime(2025, 4, 1, tzinfo=UTC)),  # the first month shown
        entry("event", datetime(2025, 3, 31, 23, 59, tzinfo=UTC)),  # just before it
    ]
    # when they are counted per month
    activity = monthly_activity(entries, now=NOW)
    # then twelve months end with the current one, and each kind is a series
    assert activity["labels"][0] == "2025-04"
    assert activity["labels"][-1] == "2026-03"
    assert len(activity["labels"]) == 12
    series = {s["name"]: s["data"] for s in activity["series"]}
    assert list(series) == ["event", "order"]
    assert series["order"][-1] == 2
    assert series["event"][activity["labels"].index("2026-01")] == 1
    assert series["event"][0] == 1
    assert sum(series["event"]) == 2


def test_monthly_activity_of_an_empty_timeline_has_months_but_no_series() -> None:
    activity = monthly_activity([], now=NOW)
    assert len(activity["labels"]) == 12
    assert activity["series"] == []
