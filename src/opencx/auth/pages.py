"""Web pages of access: login, logout, settings (API keys)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from opencx.auth import service
from opencx.auth.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CurrentUser,
    DbSession,
)
from opencx.auth.models import Role
from opencx.settings import get_settings
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status_code=status_code, csrf_token=token, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return _login_page(request, "Your session expired; please try again.", 403)
    settings = get_settings()
    try:
        user = service.authenticate_user(
            db,
            email=email,
            password=password,
            client_ip=request.client.host if request.client else "unknown",
            max_failures=settings.login_max_failures,
            window_minutes=settings.login_window_minutes,
        )
    except service.LoginThrottled as exc:
        return _login_page(request, f"Too many failed attempts: {exc}.", 429)
    if user is None:
        # Commit the failed attempt so throttling counts it, then answer.
        db.commit()
        return _login_page(request, "Email or password is wrong.", 401)
    token, _ = service.create_web_session(db, user=user, hours=settings.session_hours)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, current: CsrfChecked) -> Response:
    service.end_web_session(db, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, db: DbSession, current: CurrentUser) -> Response:
    return render(
        request,
        "settings.html",
        current=current,
        organization=service.get_organization(db, org_id=current.org_id),
        users=service.list_users(db, org_id=current.org_id),
        api_keys=service.list_api_keys(db, org_id=current.org_id),
        new_secret=None,
    )


@router.post("/settings/api-keys", response_class=HTMLResponse)
def create_api_key_page(
    request: Request, db: DbSession, current: CsrfChecked, name: Annotated[str, Form()]
) -> Response:
    if current.user.role != Role.admin:
        return render(
            request, "error.html", 403, current=current, message="Only admins create API keys."
        )
    _, secret = service.create_api_key(
        db, org_id=current.org_id, name=name, created_by_id=current.user.id
    )
    return render(
        request,
        "settings.html",
        current=current,
        organization=service.get_organization(db, org_id=current.org_id),
        users=service.list_users(db, org_id=current.org_id),
        api_keys=service.list_api_keys(db, org_id=current.org_id),
        new_secret=secret,
    )


@router.post("/settings/api-keys/{api_key_id}/revoke")
def revoke_api_key_page(api_key_id: int, db: DbSession, current: CsrfChecked) -> Response:
    if current.user.role == Role.admin:
        service.revoke_api_key(db, org_id=current.org_id, api_key_id=api_key_id)
    return RedirectResponse("/settings", status_code=303)
