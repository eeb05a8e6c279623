"""Business time: when a desk is open, and due moments counted in its opening hours.

Pure functions, no database: `OpeningHours` says when a team works (a time zone, weekly
periods, holidays); `add_business_time` moves a moment forward by an amount of open time and
`business_time_between` measures the open time between two moments. Open time is real
elapsed time inside the opening periods, so a 24-hour day that is 23 hours long (the spring
daylight-saving change) counts 23 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far ahead a due moment is looked for before the hours are called never open.
SEARCH_DAYS = 3 * 366


class NeverOpen(ValueError):
    """The opening hours have no open time in the searched years."""


@dataclass(frozen=True)
class OpeningPeriod:
    """Open on `weekday` (0 = Monday) from `opens` to `closes`, local time.

    A period that closes at or before it opens runs past midnight into the next day
    (22:00-02:00); 00:00-00:00 is the whole day. A holiday closes the periods that open on it.
    """

    weekday: int
    opens: time
    closes: time


@dataclass(frozen=True)
class OpeningHours:
    """When a desk is open: a time zone, weekly periods and holiday dates (local)."""

    time_zone: str
    periods: tuple[OpeningPeriod, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> OpeningHours:
        """24/7: every day open all day."""
        return cls(time_zone, tuple(OpeningPeriod(d, time(0), time(0)) for d in range(7)))


def _utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    # A local time that does not exist (the spring change) reads with the offset before it.
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def _open_intervals(hours: OpeningHours, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals (UTC) in the order they open, from the local day before `since` on."""
    zone = ZoneInfo(hours.time_zone)
    by_day: dict[int, list[OpeningPeriod]] = {}
    for period in hours.periods:
        by_day.setdefault(period.weekday, []).append(period)
    for periods in by_day.values():
        periods.sort(key=lambda p: p.opens)
    first = since.astimezone(zone).date() - timedelta(days=1)
    for offset in range(SEARCH_DAYS):
        day = first + timedelta(days=offset)
        if day in hours.holidays:
            continue
        for period in by_day.get(day.weekday(), ()):
            closing_day = day if period.closes > period.opens else day + timedelta(days=1)
            yield _utc(day, period.opens, zone), _utc(closing_day, period.closes, zone)


def add_business_time(start: datetime, amount: timedelta, hours: OpeningHours) -> datetime:
    """The moment when `amount` of open time has passed since `start` (aware, returned in UTC).

    Nothing to add returns `start` itself, even when the desk is closed then. Raises
    `NeverOpen` when the hours have not enough open time in the next three years.
    """
    if amount < timedelta(0):
        raise ValueError("amount must not be negative")
    cursor = start.astimezone(UTC)
    if amount == timedelta(0):
        return cursor
    remaining = amount
    for opens, closes in _open_intervals(hours, cursor):
        begin = max(cursor, opens)
        if closes <= begin:
            continue
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
        cursor = closes
    raise NeverOpen(f"no open time within {SEARCH_DAYS} days of {start.isoformat()}")


def add_business_minutes(start: datetime, minutes: int, hours: OpeningHours) -> datetime:
    """The moment `minutes` minutes of open time after `start` (UTC)."""
    return add_business_time(start, timedelta(minutes=minutes), hours)


def business_time_between(start: datetime, end: datetime, hours: OpeningHours) -> timedelta:
    """Open time inside [start, end); zero when `end` is not after `start`."""
    cursor, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    if end <= cursor:
        return total
    for opens, closes in _open_intervals(hours, cursor):
        if opens >= end:
            break
        begin = max(cursor, opens)
        finish = min(closes, end)
        if finish > begin:
            total += finish - begin
            cursor = finish
    return total


def is_open(moment: datetime, hours: OpeningHours) -> bool:
    """Whether the desk is open at `moment`."""
    moment = moment.astimezone(UTC)
    for opens, closes in _open_intervals(hours, moment):
        if opens > moment:
            return False
        if opens <= moment < closes:
            return True
    return False
