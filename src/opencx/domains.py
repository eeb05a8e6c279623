"""The list of domains: importing them registers their tables, timeline sources and routers."""

from __future__ import annotations

import importlib

DOMAINS = ("auth", "customers", "commerce", "journeys")


def load_models() -> None:
    """Import every domain's models so Base.metadata knows all tables."""
    for name in DOMAINS:
        importlib.import_module(f"opencx.{name}.models")
