"""Settings from the environment (prefix OPENCX_), with defaults that run with no configuration."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Every setting OpenCX reads; each has a working default."""

    model_config = SettingsConfigDict(env_prefix="OPENCX_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(
        default=Path("var"), description="Where the SQLite and DuckDB files live"
    )
    database_url: str = Field(
        default="", description="SQLAlchemy URL; default a SQLite file in data_dir"
    )
    analytics_url: str = Field(
        default="",
        description="duckdb:///path or clickhouse://...; default a DuckDB file beside SQLite",
    )
    secret_key: str = Field(default="", description="Signs sessions and tokens; generated if unset")
    analytics_sync_seconds: int = Field(
        default=60, ge=0, description="How often the server copies new rows to analytics; 0 = never"
    )
    webhook_delivery_seconds: int = Field(
        default=30, ge=0, description="How often the server retries due webhooks; 0 = never"
    )
    sla_check_seconds: int = Field(
        default=60, ge=0, description="How often the server marks SLA breaches; 0 = never"
    )
    text_enrichment_seconds: int = Field(
        default=30, ge=0, description="How often the server analyses new texts; 0 = never"
    )
    text_learning_hours: int = Field(
        default=24, ge=0, description="How often sentiment is relearned per organization; 0 = never"
    )
    overview_warm_seconds: int = Field(
        default=600,
        ge=0,
        description="How often the server computes each organization's default overview "
        "so its first visit of the day is fast; 0 = never",
    )
    jobs_backend: Literal["inline", "celery"] = "inline"
    redis_url: str = "redis://127.0.0.1:6379/0"
    host: str = "127.0.0.1"
    port: int = 8000
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    events_max_batch: int = 10_000
    public_url: str = Field(
        default="", description="Base of links sent to customers; default http://host:port"
    )
    smtp_host: str = Field(default="", description="SMTP server for email; empty = email off")
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "OpenCX <no-reply@localhost>"
    # The service desk's mailbox (one per server; `opencx channels email fetch --org` feeds it
    # into one organization) and the address its replies come from (default smtp_from).
    imap_host: str = Field(default="", description="IMAP server of the desk mailbox; empty = off")
    imap_port: int = 993
    imap_ssl: bool = True
    imap_username: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    desk_email_from: str = Field(default="", description="From of agents' email replies")
    # Messaging webhooks; an empty secret switches the channel's webhook off (404).
    whatsapp_app_secret: str = Field(default="", description="Meta app secret: X-Hub-Signature-256")
    whatsapp_verify_token: str = Field(default="", description="Token of Meta's GET handshake")
    telegram_secret_token: str = Field(default="", description="secret_token given to setWebhook")
    survey_dispatch_seconds: int = Field(
        default=60,
        ge=0,
        description="How often due survey emails, reminders and periodic invites go out; 0 = never",
    )
    survey_email_max_attempts: int = Field(
        default=5, ge=1, le=20, description="SMTP attempts per survey email before it is failed"
    )
    survey_email_retry_seconds: int = Field(
        default=60, ge=1, description="Wait before the first retry; doubled after each failure"
    )

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"OPENCX_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return value

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opencx.db').resolve()}"

    def resolved_analytics_url(self) -> str:
        if self.analytics_url:
            return self.analytics_url
        db = self.resolved_database_url()
        if db.startswith("sqlite:///") and db != "sqlite:///:memory:":
            return "duckdb:///" + str(Path(db.removeprefix("sqlite:///")).with_suffix(".duckdb"))
        return f"duckdb:///{(self.data_dir / 'analytics.duckdb').resolve()}"

    def resolved_public_url(self) -> str:
        """Where customers reach this server (links in emails), without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept in data_dir (development only)."""
        if self.secret_key:
            return self.secret_key
        if self.environment == "production":
            raise RuntimeError("OPENCX_SECRET_KEY must be set in production")
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
