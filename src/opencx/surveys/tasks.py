"""Background work of surveys: sending invitation emails, reminders and periodic invitations.

Each step is its own short transaction, and the SMTP hand-over happens between them, so no
database lock is held while a mail server is slow. A send is claimed (a conditional UPDATE)
before it is handed over, so two workers never send the same invitation.
"""

from __future__ import annotations

import logging
from datetime import datetime

from opencx.auth import service as auth
from opencx.db import session_scope, utcnow
from opencx.settings import get_settings
from opencx.surveys import invitation_mail, service
from opencx.surveys.models import EmailSendStatus
from opencx.surveys.schemas import DispatchReport

log = logging.getLogger(__name__)


def send_invitation_email(
    *, org_id: int, invitation_id: int, now: datetime | None = None
) -> EmailSendStatus | None:
    """One attempt to email an invitation; None when it was not due or another worker has it."""
    now = now or utcnow()
    with session_scope() as session:
        if not service.claim_email_send(
            session, org_id=org_id, invitation_id=invitation_id, now=now
        ):
            return None
    error: str | None = None
    retry = True
    try:
        with session_scope() as session:
            message = service.compose_invitation_email(
                session, org_id=org_id, invitation_id=invitation_id
            )
        invitation_mail.deliver(get_settings(), message)
    except (invitation_mail.MailNotSent, service.EmailNotSent) as exc:
        error = str(exc)
    except service.InvitationRefused as exc:
        error, retry = exc.reason, False
    with session_scope() as session:
        outcome = service.record_email_outcome(
            session,
            org_id=org_id,
            invitation_id=invitation_id,
            error=error,
            retry=retry,
            now=now,
        )
    return outcome.send_status


def send_reminder_email(*, org_id: int, invitation_id: int, now: datetime | None = None) -> bool:
    """Email the one reminder of an invitation; False when it was already claimed or failed."""
    now = now or utcnow()
    with session_scope() as session:
        if not service.claim_reminder(session, org_id=org_id, invitation_id=invitation_id, now=now):
            return False
    try:
        with session_scope() as session:
            message = service.compose_invitation_email(
                session, org_id=org_id, invitation_id=invitation_id, reminder=True
            )
        invitation_mail.deliver(get_settings(), message)
    except (invitation_mail.MailNotSent, service.EmailNotSent, service.InvitationRefused) as exc:
        log.warning("survey reminder %s not sent, retried next round: %s", invitation_id, exc)
        with session_scope() as session:
            service.release_reminder(session, org_id=org_id, invitation_id=invitation_id, now=now)
        return False
    return True


def dispatch_due_work(*, now: datetime | None = None, batch_size: int = 500) -> DispatchReport:
    """One round over every organization: periodic invitations, due sends and retries, reminders."""
    now = now or utcnow()
    report = DispatchReport()
    with session_scope() as session:
        org_ids = auth.list_organization_ids(session)
    for org_id in org_ids:
        with session_scope() as session:
            report.periodic_invited += service.invite_periodically(
                session, org_id=org_id, now=now, limit=batch_size
            )
            report.failed += service.fail_interrupted_sends(session, org_id=org_id, now=now)
        with session_scope() as session:
            due = service.list_due_email_sends(session, org_id=org_id, now=now, limit=batch_size)
        for invitation_id in due:
            status = send_invitation_email(org_id=org_id, invitation_id=invitation_id, now=now)
            if status is EmailSendStatus.sent:
                report.sent += 1
            elif status is EmailSendStatus.queued:
                report.retrying += 1
            elif status is EmailSendStatus.failed:
                report.failed += 1
        with session_scope() as session:
            reminders = service.list_due_reminders(
                session, org_id=org_id, now=now, limit=batch_size
            )
        for invitation_id in reminders:
            if send_reminder_email(org_id=org_id, invitation_id=invitation_id, now=now):
                report.reminded += 1
    return report
