"""Background work of the channels: fetching a mailbox into conversations."""

from __future__ import annotations

from pydantic import BaseModel, Field

from opencx.channels import email, service
from opencx.db import session_scope
from opencx.errors import InvalidInput, NotFound
from opencx.settings import get_settings


class RejectedEmail(BaseModel):
    uid: str
    field: str
    reason: str


class MailboxFetch(BaseModel):
    """What one fetch of the mailbox did."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    conversations_created: int = 0
    rejected: list[RejectedEmail] = Field(default_factory=list)


def fetch_email(*, org_id: int) -> MailboxFetch:
    """Read every unhandled message of the configured IMAP mailbox into the organization's desk.

    Each message is committed on its own, then flagged on the server; a crash between the two
    only means the next fetch finds it again, and its Message-ID makes that a duplicate.
    """
    report = MailboxFetch()
    with email.ImapMailbox(get_settings()) as mailbox:
        for item in mailbox.unhandled():
            report.fetched += 1
            try:
                with session_scope() as session:
                    (result,) = service.record_delivery(
                        session,
                        org_id=org_id,
                        adapter=email.EmailAdapter(),
                        raw=item.raw,
                        received_at=item.received_at,
                    )
            except (InvalidInput, NotFound) as exc:
                field = exc.field if isinstance(exc, InvalidInput) else "message"
                reason = exc.reason if isinstance(exc, InvalidInput) else str(exc)
                report.rejected.append(RejectedEmail(uid=item.uid, field=field, reason=reason))
                mailbox.mark(item.uid, stored=False)
                continue
            if result.duplicate:
                report.duplicates += 1
            else:
                report.stored += 1
                report.conversations_created += int(result.conversation_created)
            mailbox.mark(item.uid, stored=True)
    return report
