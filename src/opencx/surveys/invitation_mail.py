"""The invitation email in the customer's language, and handing it to the SMTP server."""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from opencx.settings import Settings

SUBJECT = {
    "en": "A quick question about your experience with {org}",
    "nl": "Een korte vraag over uw ervaring met {org}",
    "pl": "Krótkie pytanie o Twoje doświadczenia z {org}",
}
BODY = {
    "en": (
        "Hello{name},\n\nWe would like to hear how we did. It takes about a minute:\n\n{link}\n\n"
        "The link works until {until}.\n\nThank you,\n{org}\n"
    ),
    "nl": (
        "Hallo{name},\n\nWe horen graag hoe we het gedaan hebben. Het kost ongeveer een minuut:"
        "\n\n{link}\n\nDe link werkt tot {until}.\n\nBedankt,\n{org}\n"
    ),
    "pl": (
        "Dzień dobry{name},\n\nChcemy wiedzieć, jak nam poszło. To zajmie około minuty:\n\n"
        "{link}\n\nLink jest ważny do {until}.\n\nDziękujemy,\n{org}\n"
    ),
}


class MailNotSent(Exception):
    """The SMTP server could not be reached or refused the message."""


def compose_invitation(
    *,
    settings: Settings,
    to: str,
    first_name: str | None,
    org_name: str,
    language: str,
    link: str,
    expires_at: datetime,
) -> EmailMessage:
    """The plain-text invitation: subject and body in `language`, the survey link in it."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = SUBJECT[language].format(org=org_name)
    message["Message-ID"] = make_msgid(domain="opencx")
    message.set_content(
        BODY[language].format(
            name=f" {first_name}" if first_name else "",
            link=link,
            until=expires_at.strftime("%Y-%m-%d"),
            org=org_name,
        )
    )
    return message


def deliver(settings: Settings, message: EmailMessage) -> None:
    """Hand the message to the configured SMTP server."""
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"the SMTP server did not take the message: {exc}") from exc
