"""The overview's sections: a small registry, so each domain adds its tile by adding one entry.

A section has a title, one call returning typed data (a pydantic model) for the filters, the
template partial that draws it, and the charts whose data can be downloaded as CSV. The page
renders `overview.service.SECTIONS` in order; `compute` must honour the filters it can (and say which it cannot).
See docs/web.md, "The overview and its sections".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

Cell = str | int | float | None


@dataclass(frozen=True)
class Chart:
    """A chart of a section: `table` turns the section's data into the chart's rows."""

    key: str
    title: str
    columns: Sequence[str]
    table: Callable[[Any], list[list[Cell]]]


@dataclass(frozen=True)
class Section:
    """One tile of the overview: `key` names it in ids and URLs; `template` is a partial under
    web/templates/overview/ that receives the data as `data` (and `section`, `filters`)."""

    key: str
    title: str
    compute: Callable[..., BaseModel]
    template: str
    # compute(session, *, org_id: int, filters: OverviewFilters, now: datetime) -> BaseModel
    charts: tuple[Chart, ...] = field(default=())

    def chart(self, key: str) -> Chart | None:
        return next((chart for chart in self.charts if chart.key == key), None)
