"""The invitation and reminder emails and the chat message, in the customer's language."""

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

REMINDER_SUBJECT = {
    "en": "Reminder: a quick question about your experience with {org}",
    "nl": "Herinnering: een korte vraag over uw ervaring met {org}",
    "pl": "Przypomnienie: krótkie pytanie o Twoje doświadczenia z {org}",
}
REMINDER_BODY = {
    "en": (
        "Hello{name},\n\nA few days ago we asked how we did. If you have a minute, we would still "
        "love to hear it:\n\n{link}\n\nThe link works until {until}. This is the only reminder."
        "\n\nThank you,\n{org}\n"
    ),
    "nl": (
        "Hallo{name},\n\nEen paar dagen geleden vroegen we hoe we het gedaan hebben. Als u een "
        "minuut heeft, horen we het nog steeds graag:\n\n{link}\n\nDe link werkt tot {until}. "
        "Dit is de enige herinnering.\n\nBedankt,\n{org}\n"
    ),
    "pl": (
        "Dzień dobry{name},\n\nKilka dni temu zapytaliśmy, jak nam poszło. Jeśli masz minutę, "
        "nadal chętnie poznamy Twoją opinię:\n\n{link}\n\nLink jest ważny do {until}. To jedyne "
        "przypomnienie.\n\nDziękujemy,\n{org}\n"
    ),
}
# Posted into a chat by an agent or a bot: short, one line, the link last.
CHAT_MESSAGE = {
    "en": "How did we do? Tell us in a minute: {link}",
    "nl": "Hoe hebben we het gedaan? Laat het ons in een minuut weten: {link}",
    "pl": "Jak nam poszło? Powiedz nam w minutę: {link}",
}


def chat_message(language: str, link: str) -> str:
    """The ready-to-post chat text with the survey link, in `language`."""
    return CHAT_MESSAGE[language].format(link=link)


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
    reminder: bool = False,
) -> EmailMessage:
    """The plain-text invitation (or its reminder): subject and body in `language`, with the link."""
    subject, body = (REMINDER_SUBJECT, REMINDER_BODY) if reminder else (SUBJECT, BODY)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject[language].format(org=org_name)
    message["Message-ID"] = make_msgid(domain="opencx")
    message.set_content(
        body[language].format(
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
