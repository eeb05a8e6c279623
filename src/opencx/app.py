"""FastAPI app factory: mounts each domain's API and pages, static files and error handling."""

from __future__ import annotations

import importlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError

from opencx import __version__
from opencx.analytics.engine import AnalyticsUnavailable
from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth_service
from opencx.auth.deps import SESSION_COOKIE, LoginRequired, SignedIn
from opencx.conversations.tasks import check_slas
from opencx.db import session_scope
from opencx.domains import DOMAINS, load_domains
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.jobs import repeat
from opencx.overview.tasks import warm_overviews
from opencx.settings import get_settings
from opencx.surveys.tasks import dispatch_due_work
from opencx.text_safety import RejectUnsafeText
from opencx.textanalytics.tasks import enrich_and_learn_periodically
from opencx.web.templating import WEB_DIR, render
from opencx.webhooks.tasks import deliver_due_webhooks


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status_code: int, *, message: str) -> Response:
    """The error page, with the navigation when the visitor is signed in."""
    token = request.cookies.get(SESSION_COOKIE)
    current = None
    if token:
        with session_scope() as session:
            found = auth_service.get_web_session(session, token=token)
            current = SignedIn(user=found[1], web_session=found[0]) if found else None
    return render(request, "error.html", status_code, message=message, current=current)


def _not_found(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": str(exc)}, status_code=404)
    return _error_page(request, 404, message=str(exc))


def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput)
    detail = [{"loc": ["body", *exc.field.split(".")], "msg": exc.reason, "type": "value_error"}]
    if _is_api(request):
        return JSONResponse({"detail": detail}, status_code=422)
    return _error_page(request, 422, message=f"{exc.field}: {exc.reason}")


def _conflict(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return _error_page(request, 409, message=str(exc))


def _integrity_error(request: Request, exc: Exception) -> Response:
    # Two requests racing to create the same thing (same identity, same key): the loser's
    # transaction is rolled back whole; nothing half-written, and retrying is safe.
    message = "a concurrent request changed the same data; nothing was stored, please retry"
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=409)
    return _error_page(request, 409, message=message)


def _login_required(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": "not signed in"}, status_code=401)
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def _analytics_unavailable(request: Request, exc: Exception) -> Response:
    message = f"analytics store unavailable: {exc}"
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=503)
    return _error_page(request, 503, message=message)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    stop = threading.Event()
    # The server's background rounds: (what, one round, every N seconds (0 = off), first at start)
    rounds = (
        ("analytics sync", sync_to_analytics, settings.analytics_sync_seconds, True),
        ("survey dispatch", dispatch_due_work, settings.survey_dispatch_seconds, True),
        ("webhook delivery", deliver_due_webhooks, settings.webhook_delivery_seconds, False),
        ("SLA check", check_slas, settings.sla_check_seconds, False),
        ("overview warming", warm_overviews, settings.overview_warm_seconds, True),
    )
    for what, work, seconds, at_start in rounds:
        if seconds:
            threading.Thread(
                target=repeat,
                args=(work,),
                kwargs={"every_seconds": seconds, "stop": stop, "at_start": at_start, "what": what},
                name=f"opencx-{what.lower().replace(' ', '-')}",
                daemon=True,
            ).start()
    if settings.text_enrichment_seconds or settings.text_learning_hours:
        threading.Thread(
            target=enrich_and_learn_periodically,
            kwargs={
                "enrichment_seconds": settings.text_enrichment_seconds,
                "learning_hours": settings.text_learning_hours,
                "stop": stop,
            },
            name="opencx-text-analytics",
            daemon=True,
        ).start()
    yield
    stop.set()


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


def create_app() -> FastAPI:
    load_domains()
    app = FastAPI(
        title="OpenCX",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(InvalidInput, _invalid)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(AnalyticsUnavailable, _analytics_unavailable)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_middleware(RejectUnsafeText)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for domain in (*DOMAINS, "analytics", "web"):
        for part in ("api", "pages"):
            try:
                module = importlib.import_module(f"opencx.{domain}.{part}")
            except ModuleNotFoundError as exc:
                if exc.name != f"opencx.{domain}.{part}":
                    raise
                continue
            app.include_router(module.router)
    return app
