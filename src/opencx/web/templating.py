"""Jinja2 templates shared by every domain's pages, and the navigation they show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from opencx import __version__

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.globals["version"] = __version__

# (label, path, available yet); domains still to come show as "soon" so the shell is complete.
NAVIGATION: list[tuple[str, str, bool]] = [
    ("Overview", "/", True),
    ("Customers", "/customers", True),
    ("Inbox", "/inbox", False),
    ("Surveys", "/surveys", False),
    ("Journeys", "/journeys", False),
    ("Insights", "/insights", False),
    ("Quality", "/quality", False),
    ("Workforce", "/workforce", False),
    ("Settings", "/settings", True),
]
templates.env.globals["navigation"] = NAVIGATION


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)
