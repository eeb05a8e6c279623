"""Use cases of tenancy and access: organizations, users, passwords, API keys, web sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.auth.models import ApiKey, LoginAttempt, Organization, Role, User, WebSession
from opencx.auth.schemas import Principal
from opencx.db import utcnow
from opencx.errors import Conflict, InvalidInput, NotFound

API_KEY_PREFIX = "ocx_"
_hasher = PasswordHasher()
# A fixed hash to verify against when the email is unknown, so timing does not reveal users.
_DUMMY_HASH = _hasher.hash("not-a-real-password-000")


class LoginThrottled(Exception):
    """Too many failed logins for this email or client address in the window."""


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_organization(session: Session, *, name: str, slug: str | None = None) -> Organization:
    slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise InvalidInput("slug", "must contain letters or digits")
    if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise Conflict(f"organization slug {slug!r} is taken")
    org = Organization(name=name, slug=slug, settings={})
    session.add(org)
    session.flush()
    return org


def count_organizations(session: Session) -> int:
    """How many organizations exist (the CLI loads the demo only into an empty installation)."""
    return session.scalar(select(func.count(Organization.id))) or 0


def get_organization(session: Session, *, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("organization", org_id)
    return org


def get_organization_by_slug(session: Session, *, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound("organization", slug)
    return org


def find_organization_id(session: Session, *, slug: str) -> int | None:
    return session.scalar(select(Organization.id).where(Organization.slug == slug))


def create_user(
    session: Session, *, org_id: int, email: str, name: str, role: Role, password: str
) -> User:
    email = email.strip().lower()
    if len(password) < 10:
        raise InvalidInput("password", "must be at least 10 characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} exists")
    user = User(
        org_id=org_id, email=email, name=name, role=Role(role), password_hash=_hasher.hash(password)
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session, *, org_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.org_id == org_id).order_by(User.id)))


def _recent_failures(session: Session, *, column: object, value: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count(LoginAttempt.id)).where(
                column == value,  # type: ignore[operator]
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.created_at >= since,
            )
        )
        or 0
    )


def authenticate_user(
    session: Session,
    *,
    email: str,
    password: str,
    client_ip: str,
    max_failures: int,
    window_minutes: int,
) -> User | None:
    """Check a password login; throttled per email and per client address. Records the attempt."""
    email = email.strip().lower()
    since = utcnow() - timedelta(minutes=window_minutes)
    if (
        _recent_failures(session, column=LoginAttempt.email, value=email, since=since)
        >= max_failures
        or _recent_failures(session, column=LoginAttempt.client_ip, value=client_ip, since=since)
        >= max_failures * 4
    ):
        raise LoginThrottled(f"too many failed logins; try again in {window_minutes} minutes")
    user = session.scalar(select(User).where(User.email == email, User.is_active.is_(True)))
    try:
        ok = (
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
            and user is not None
        )
    except (VerificationError, InvalidHashError):
        ok = False
    session.add(LoginAttempt(email=email, client_ip=client_ip, succeeded=ok))
    if not ok or user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def create_web_session(session: Session, *, user: User, hours: int) -> tuple[str, WebSession]:
    """Start a browser session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        org_id=user.org_id,
        user_id=user.id,
        token_hash=_sha256(token),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(web_session)
    session.flush()
    return token, web_session


def get_web_session(session: Session, *, token: str) -> tuple[WebSession, User] | None:
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == _sha256(token), User.is_active.is_(True))
    ).first()
    if row is None or row[0].expires_at <= utcnow():
        return None
    return row[0], row[1]


def end_web_session(session: Session, *, token: str) -> None:
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == _sha256(token)))
    if web_session is not None:
        session.delete(web_session)


def create_api_key(
    session: Session, *, org_id: int, name: str, created_by_id: int | None = None
) -> tuple[ApiKey, str]:
    """Make a key scoped to one organization; returns the row and the secret, shown once."""
    if not name.strip():
        raise InvalidInput("name", "must not be empty")
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        org_id=org_id,
        name=name.strip(),
        prefix=secret[: len(API_KEY_PREFIX) + 8],
        key_hash=_sha256(secret),
        created_by_id=created_by_id,
    )
    session.add(key)
    session.flush()
    return key, secret


def list_api_keys(session: Session, *, org_id: int) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.org_id == org_id).order_by(ApiKey.id)))


def revoke_api_key(session: Session, *, org_id: int, api_key_id: int) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.org_id == org_id, ApiKey.id == api_key_id))
    if key is None:
        raise NotFound("api key", api_key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def authenticate_api_key(session: Session, *, secret: str) -> Principal | None:
    key = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == _sha256(secret), ApiKey.revoked_at.is_(None))
    )
    if key is None:
        return None
    now = utcnow()
    # Touch last_used_at at most once a minute: no write on every request of a busy integration.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        key.last_used_at = now
    return Principal(org_id=key.org_id, api_key_id=key.id, role=Role.admin, name=key.name)


def principal_for_user(user: User) -> Principal:
    return Principal(org_id=user.org_id, user_id=user.id, role=user.role, name=user.name)


def list_organization_ids(session: Session) -> list[int]:
    """Every organization's id: for server-wide background rounds that work org by org."""
    return list(session.scalars(select(Organization.id).order_by(Organization.id)))
