"""The report every bulk import or ingestion returns: what was accepted and what was rejected, by row."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError


class RowError(BaseModel):
    index: int = Field(description="0-based position of the row in the batch or file")
    field: str = Field(description="dotted path of the offending field, or '' for the whole row")
    reason: str


class ImportReport(BaseModel):
    received: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = Field(
        default=0, description="rows already stored (same id); not stored again"
    )
    errors: list[RowError] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def row_errors(index: int, exc: ValidationError) -> list[RowError]:
    """Turn a pydantic validation error of one row into row errors naming each field."""
    return [
        RowError(index=index, field=".".join(str(p) for p in err["loc"]), reason=err["msg"])
        for err in exc.errors()
    ]
