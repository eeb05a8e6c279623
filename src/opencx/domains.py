"""The list of domains: importing them registers their tables, timeline sources and GDPR hooks."""

from __future__ import annotations

import importlib

DOMAINS = (
    "auth",
    "customers",
    "commerce",
    # Before journeys: /journeys/paths and /journeys/funnels match ahead of its pages.
    "journeys.funnels",
    "journeys",
    "journeys.maps",
    "webhooks",
    # Before surveys: its /surveys/follow-ups pages must match ahead of /surveys/{survey_id}.
    "surveys.follow_ups",
    "surveys",
    # Before conversations: its /inbox/presence form must match ahead of /inbox/{conversation_id}.
    "conversations.routing",
    "conversations",
    "channels",
    "textanalytics",
)


def _import_if_present(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise


def load_models() -> None:
    """Import every domain's models so Base.metadata knows all tables."""
    for name in DOMAINS:
        _import_if_present(f"opencx.{name}.models")


def load_domains() -> None:
    """Import models and services: services register timeline sources and GDPR hooks."""
    load_models()
    for name in DOMAINS:
        _import_if_present(f"opencx.{name}.service")
