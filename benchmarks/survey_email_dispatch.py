"""Benchmark: queued survey invitation emails sent by racing dispatchers to a real SMTP server.

    .venv/bin/python benchmarks/survey_email_dispatch.py [--emails 1000] [--dispatchers 2]
        [--database-url postgresql+psycopg://...]

Makes an organization with a published NPS survey and `--emails` consenting customers, queues one
invitation email each (due a minute from now, so the send jobs queued at commit leave them to the
dispatchers), starts an SMTP server on localhost (aiosmtpd), then runs `--dispatchers` rounds of
`dispatch_due_work` at the same moment on threads and prints emails/s. It checks afterwards that
every customer received exactly one message and every invitation is `sent`, so a fast wrong
answer cannot pass. Default database: a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from opencx import jobs, migrate
from opencx.auth import service as auth_service
from opencx.customers import service as customers_service
from opencx.db import get_engine, reset_caches, session_scope, utcnow
from opencx.domains import load_domains
from opencx.surveys import service as surveys
from opencx.surveys.schemas import DispatchReport, InvitationIn, SurveyIn
from opencx.surveys.tasks import dispatch_due_work


class Recipients:
    """Counts the recipients of every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        self.seen.extend(envelope.rcpt_tos)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(emails: int, due: object) -> None:
    """An organization, a published NPS survey and one queued invitation email per customer."""
    with session_scope() as session:
        org = auth_service.create_organization(session, name="Bench", slug="bench")
        rows = [
            {
                "language": ("en", "nl", "pl")[n % 3],
                "identities": [{"kind": "email", "value": f"c{n}@bench.example"}],
                "consents": [{"purpose": "surveys", "channel": "email", "status": "granted"}],
            }
            for n in range(emails)
        ]
        report = customers_service.import_customers(
            session, org_id=org.id, rows=rows, source="benchmark"
        )
        assert report.ok, report.errors[:3]
        survey = surveys.create_survey(
            session, org_id=org.id, data=SurveyIn(name="After delivery", kind="nps")
        )
        surveys.publish_survey(session, org_id=org.id, survey_id=survey.id)
        for customer_id in session.scalars(sa.text("SELECT id FROM customers ORDER BY id")):
            surveys.create_invitation(
                session,
                org_id=org.id,
                survey_id=survey.id,
                data=InvitationIn(customer_id=customer_id, channel="email", send_email=True),
                now=due,  # type: ignore[arg-type]
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="opencx-dispatch-"))
    url = args.database_url or f"sqlite:///{folder / 'opencx.db'}"
    recipients = Recipients()
    port = _free_port()
    controller = Controller(recipients, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ.update(
        OPENCX_DATABASE_URL=url,
        OPENCX_DATA_DIR=str(folder),
        OPENCX_SMTP_HOST="127.0.0.1",
        OPENCX_SMTP_PORT=str(port),
        OPENCX_PUBLIC_URL="https://cx.bench.example",
    )
    reset_caches()
    load_domains()
    migrate.upgrade(url)
    due = utcnow() + timedelta(minutes=1)
    started = time.perf_counter()
    prepare(args.emails, due)
    print(f"{args.emails} invitations queued in {time.perf_counter() - started:.1f} s")
    # The jobs queued at commit find nothing due yet; let them finish before the race.
    jobs._pool().submit(lambda: None).result()
    reports: list[DispatchReport] = []
    gate = threading.Barrier(args.dispatchers)

    def dispatcher() -> None:
        gate.wait()
        reports.append(dispatch_due_work(now=due + timedelta(seconds=1), batch_size=args.emails))

    threads = [threading.Thread(target=dispatcher) for _ in range(args.dispatchers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    controller.stop()
    with get_engine().connect() as conn:
        statuses = dict(
            conn.execute(
                sa.text("SELECT send_status, count(*) FROM survey_invitations GROUP BY 1")
            ).all()
        )
    dialect = get_engine().dialect.name
    split = " + ".join(str(r.sent) for r in reports)
    print(
        f"{dialect}: {len(recipients.seen)} emails by {args.dispatchers} dispatchers "
        f"({split}) in {seconds:.1f} s = {len(recipients.seen) / seconds:.0f} emails/s"
    )
    assert sorted(recipients.seen) == sorted(f"c{n}@bench.example" for n in range(args.emails))
    assert statuses == {"sent": args.emails}, statuses
    print("checked: every customer got exactly one email; every invitation is sent")


if __name__ == "__main__":
    main()
