"""Business time: due moments over weekends, holidays, nights, the DST change, and 24/7."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.conversations.business_hours import (
    NeverOpen,
    OpeningHours,
    OpeningPeriod,
    add_business_minutes,
    add_business_time,
    business_time_between,
    is_open,
)

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = OpeningHours(
    "Europe/Amsterdam",
    tuple(OpeningPeriod(day, time(9), time(17)) for day in range(5)),
    frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
)
NIGHT_SHIFT = OpeningHours(
    "Europe/Amsterdam", tuple(OpeningPeriod(day, time(22), time(2)) for day in range(7))
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def test_minutes_inside_one_working_day_are_added_as_they_are() -> None:
    # given Tuesday 10:00 in Amsterdam, when 90 business minutes are added
    due = add_business_minutes(local(2026, 12, 1, 10, 0), 90, OFFICE)
    # then it is due at 11:30 the same day (returned in UTC)
    assert due == local(2026, 12, 1, 11, 30) and due.tzinfo is UTC


def test_time_left_at_closing_carries_over_the_weekend() -> None:
    # given Friday 16:40, 40 minutes are added: 20 today, 20 on Monday
    due = add_business_minutes(local(2026, 12, 4, 16, 40), 40, OFFICE)
    # then it is due Monday 09:20
    assert due == local(2026, 12, 7, 9, 20)


def test_a_message_in_the_night_starts_counting_at_opening() -> None:
    # given a message Wednesday 23:15 with a 30 minute target
    due = add_business_minutes(local(2026, 12, 2, 23, 15), 30, OFFICE)
    # then the clock starts at 09:00 on Thursday
    assert due == local(2026, 12, 3, 9, 30)


def test_holidays_are_skipped() -> None:
    # given Thursday 24 December 16:00, 8 business hours: 1 hour, then Christmas (Fri) and
    # Boxing Day (Sat), Sunday, and 7 hours on Monday 28 December
    due = add_business_minutes(local(2026, 12, 24, 16, 0), 8 * 60, OFFICE)
    assert due == local(2026, 12, 28, 16, 0)


def test_a_period_past_midnight_counts_into_the_next_day() -> None:
    # given a night shift 22:00-02:00 and a message at 23:30 with a 3 hour target
    due = add_business_minutes(local(2026, 12, 1, 23, 30), 180, NIGHT_SHIFT)
    # then 2.5 hours are used by 02:00 and 30 minutes the next night
    assert due == local(2026, 12, 2, 22, 30)
    # and a message at 01:00 falls in the night that opened the day before
    assert is_open(local(2026, 12, 2, 1, 0), NIGHT_SHIFT)
    assert add_business_minutes(local(2026, 12, 2, 1, 0), 60, NIGHT_SHIFT) == local(
        2026, 12, 2, 2, 0
    )


def test_a_holiday_closes_the_night_that_opens_on_it() -> None:
    # given the night of 24 December is a holiday night
    hours = OpeningHours(
        NIGHT_SHIFT.time_zone, NIGHT_SHIFT.periods, frozenset({date(2026, 12, 24)})
    )
    # then 23:00 on the 24th is closed and 00:30 on the 25th too (that night opened on the 24th)
    assert not is_open(local(2026, 12, 24, 23, 0), hours)
    assert not is_open(local(2026, 12, 25, 0, 30), hours)
    assert is_open(local(2026, 12, 25, 22, 30), hours)


def test_around_the_clock_counts_real_time_across_the_spring_change() -> None:
    # given 24/7 in Amsterdam and Saturday 28 March 2026 noon (the clocks go forward that night)
    hours = OpeningHours.always_open("Europe/Amsterdam")
    start = local(2026, 3, 28, 12, 0)
    # when 24 hours of open time are added
    due = add_business_minutes(start, 24 * 60, hours)
    # then 24 real hours pass: it is 13:00 local on Sunday, not noon
    assert due - start == timedelta(hours=24)
    assert due.astimezone(AMS) == local(2026, 3, 29, 13, 0)


def test_office_hours_across_the_autumn_change_stay_nine_to_five_local() -> None:
    # given Friday 23 October 2026 16:00 (CEST); the clocks go back on Sunday 25 October
    due = add_business_minutes(local(2026, 10, 23, 16, 0), 120, OFFICE)
    # then the second hour is Monday 09:00-10:00 local time (CET), 09:00 UTC
    assert due.astimezone(AMS) == local(2026, 10, 26, 10, 0)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_business_time_between_skips_closed_time() -> None:
    # given Friday 16:00 to Monday 10:00
    between = business_time_between(local(2026, 12, 4, 16, 0), local(2026, 12, 7, 10, 0), OFFICE)
    # then two open hours passed
    assert between == timedelta(hours=2)
    assert business_time_between(local(2026, 12, 7, 10), local(2026, 12, 4, 16), OFFICE) == (
        timedelta(0)
    )


def test_zero_minutes_is_the_start_and_hours_never_open_are_refused() -> None:
    start = local(2026, 12, 5, 12, 0)  # a Saturday
    assert add_business_minutes(start, 0, OFFICE) == start
    with pytest.raises(NeverOpen):
        add_business_minutes(start, 1, OpeningHours("UTC", ()))
    with pytest.raises(ValueError, match="negative"):
        add_business_time(start, timedelta(minutes=-1), OFFICE)


# --- properties ------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(["Europe/Amsterdam", "Europe/Warsaw", "America/New_York", "UTC"])


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    periods = []
    for weekday in draw(st.sets(st.integers(0, 6), min_size=1)):
        opens = draw(st.integers(0, 23))
        length = draw(st.integers(1, 24))  # may run past midnight
        periods.append(OpeningPeriod(weekday, time(opens), time((opens + length) % 24)))
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=20))
    return OpeningHours(draw(zones), tuple(periods), holidays)


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=st.integers(1, 5000), hours=opening_hours())
def test_the_open_time_up_to_the_due_moment_is_the_amount_added(
    start: datetime, minutes: int, hours: OpeningHours
) -> None:
    # when minutes are added, then the open time between start and due is exactly that much
    due = add_business_minutes(start, minutes, hours)
    assert due > start
    assert business_time_between(start, due, hours) == timedelta(minutes=minutes)
    # and the desk is open just before the due moment
    assert is_open(due - timedelta(seconds=1), hours)


@settings(max_examples=150, deadline=None)
@given(start=moments, a=st.integers(0, 3000), b=st.integers(0, 3000), hours=opening_hours())
def test_adding_in_two_steps_is_adding_at_once(
    start: datetime, a: int, b: int, hours: OpeningHours
) -> None:
    once = add_business_minutes(start, a + b, hours)
    twice = add_business_minutes(add_business_minutes(start, a, hours), b, hours)
    assert once == twice or (a + b == 0)


@settings(max_examples=100, deadline=None)
@given(start=moments, minutes=st.integers(0, 100_000), zone=zones)
def test_around_the_clock_is_calendar_time(start: datetime, minutes: int, zone: str) -> None:
    due = add_business_minutes(start, minutes, OpeningHours.always_open(zone))
    assert due - start == timedelta(minutes=minutes)
