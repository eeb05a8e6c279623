"""FastAPI dependencies: a database session per request, the API principal, the signed-in user."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy.orm import Session

from opencx.auth import service
from opencx.auth.models import User, WebSession
from opencx.auth.schemas import Principal
from opencx.db import get_sessionmaker

SESSION_COOKIE = "opencx_session"
LOGIN_CSRF_COOKIE = "opencx_login_csrf"


def get_db() -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function" commits before the response is sent: with the default ("request") the
# commit ran after it, so a client following a redirect (login -> overview) or reading right
# after a 201 could miss the write, and a failing commit came after a success answer.
DbSession = Annotated[Session, Depends(get_db, scope="function")]


def require_api_principal(
    db: DbSession,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """Authenticate `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    secret = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    principal = service.authenticate_api_key(db, secret=secret) if secret else None
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


ApiPrincipal = Annotated[Principal, Depends(require_api_principal)]


class LoginRequired(Exception):
    """Raised by page dependencies; the app redirects to the login page."""


class SignedIn:
    """The signed-in user of a web page, with the session's CSRF token."""

    def __init__(self, user: User, web_session: WebSession) -> None:
        self.user = user
        self.web_session = web_session
        self.principal: Principal = service.principal_for_user(user)

    @property
    def org_id(self) -> int:
        return self.user.org_id

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token


def require_user(request: Request, db: DbSession) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    found = service.get_web_session(db, token=token) if token else None
    if found is None:
        raise LoginRequired()
    return SignedIn(user=found[1], web_session=found[0])


CurrentUser = Annotated[SignedIn, Depends(require_user)]


async def check_csrf(request: Request, current: CurrentUser) -> SignedIn:
    """Reject a state-changing form post whose CSRF token does not match the session's."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, current.csrf_token):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong; reload the page"
        )
    return current


CsrfChecked = Annotated[SignedIn, Depends(check_csrf)]
