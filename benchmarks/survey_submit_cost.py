"""Benchmark: what the closed loop and the webhook outbox add to one survey submit (record_answers).

    .venv/bin/python benchmarks/survey_submit_cost.py [--responses 300]

On a fresh SQLite file, for each case below it records `--responses` answers through
`surveys.service.record_answers` (each in its own transaction, as the /s/{token} POST does),
counting the SQL statements each submit runs and timing it:

- promoter, first submit, no webhooks (the hot path s-perf optimises);
- promoter, second submit of the same token;
- detractor, first submit (opens a follow-up);
- promoter, first submit, with two webhooks (writes two outbox rows).

It checks the rows afterwards (one follow-up per detractor, two deliveries per response with
webhooks), so a fast wrong answer cannot pass. The after-commit delivery jobs are switched off
(OPENCX_JOBS_BACKEND would start them): the outbox rows are only written here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.customers import service as customers_service
from opencx.customers.schemas import CustomerIn
from opencx.db import make_engine
from opencx.domains import load_domains
from opencx.surveys import service as surveys
from opencx.surveys.follow_ups.models import SurveyFollowUp
from opencx.surveys.schemas import InvitationIn, SurveyIn
from opencx.webhooks import service as webhooks
from opencx.webhooks.models import WebhookDelivery
from opencx.webhooks.schemas import WebhookIn


def _tokens(session: Session, org_id: int, survey_id: int, count: int, prefix: str) -> list[str]:
    tokens = []
    for n in range(count):
        customer, _ = customers_service.upsert_customer(
            session,
            org_id=org_id,
            data=CustomerIn.model_validate(
                {
                    "first_name": f"{prefix}{n}",
                    "identities": [{"kind": "email", "value": f"{prefix}{n}@example.com"}],
                    "consents": [
                        {
                            "purpose": "surveys",
                            "channel": "email",
                            "status": "granted",
                            "occurred_at": "2026-01-01T00:00:00Z",
                        }
                    ],
                }
            ),
            source="benchmark",
        )
        invitation = surveys.create_invitation(
            session,
            org_id=org_id,
            survey_id=survey_id,
            data=InvitationIn(customer_id=customer.id, channel="email", team="Service NL"),
        )
        tokens.append(invitation.token)
    session.commit()
    return tokens


def _measure(engine: sa.Engine, tokens: list[str], score: int) -> tuple[list[int], list[float]]:
    statements: list[int] = []
    seconds: list[float] = []
    counter = {"n": 0}

    def count(*_: Any) -> None:
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        for token in tokens:
            with Session(engine, expire_on_commit=False) as session:
                counter["n"] = 0
                started = time.perf_counter()
                surveys.record_answers(
                    session,
                    token=token,
                    form={"shown": ["score", "why"], "q_score": [str(score)], "q_why": ["ok"]},
                )
                # The jobs are not the subject here: drop the after-commit hand-over.
                session.info.pop("opencx_webhook_deliveries", None)
                session.commit()
                seconds.append(time.perf_counter() - started)
                statements.append(counter["n"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements, seconds


def _report(name: str, measured: tuple[list[int], list[float]]) -> None:
    statements, seconds = measured
    ms = sorted(s * 1000 for s in seconds)
    print(
        f"{name:<44} statements/submit {statistics.median(statements):>4.0f}"
        f"   p50 {statistics.median(ms):6.2f} ms   p99 {ms[int(len(ms) * 0.99) - 1]:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=300)
    args = parser.parse_args()
    n = args.responses
    folder = Path(tempfile.mkdtemp(prefix="opencx-submit-cost-"))
    os.environ["OPENCX_DATA_DIR"] = str(folder)
    url = f"sqlite:///{folder / 'opencx.db'}"
    load_domains()
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        org = auth_service.create_organization(session, name="Bench", slug="bench")
        survey = surveys.create_survey(
            session, org_id=org.id, data=SurveyIn(name="NPS", kind="nps")
        )
        surveys.publish_survey(session, org_id=org.id, survey_id=survey.id)
        session.commit()
        promoters = _tokens(session, org.id, survey.id, n, "p")
        detractors = _tokens(session, org.id, survey.id, n, "d")
        hooked = _tokens(session, org.id, survey.id, n, "w")

    cases: list[tuple[str, Callable[[], tuple[list[int], list[float]]]]] = [
        ("promoter, first submit, no webhooks", lambda: _measure(engine, promoters, 9)),
        ("promoter, same token again", lambda: _measure(engine, promoters, 10)),
        ("detractor, first submit (opens a follow-up)", lambda: _measure(engine, detractors, 3)),
    ]
    for name, run in cases:
        _report(name, run())
    with Session(engine, expire_on_commit=False) as session:
        for target in ("https://a.example/h", "https://b.example/h"):
            webhooks.create_webhook(
                session,
                org_id=org.id,
                data=WebhookIn(url=target, event_types=["survey.response.created"]),
            )
        session.commit()
    _report("promoter, first submit, two webhooks", _measure(engine, hooked, 9))

    with Session(engine) as session:
        follow_ups = session.scalar(select(func.count(SurveyFollowUp.id)))
        deliveries = session.scalar(select(func.count(WebhookDelivery.id)))
    assert follow_ups == n, follow_ups
    assert deliveries == 2 * n, deliveries
    print(f"checked: {follow_ups} follow-ups, {deliveries} outbox rows")
    engine.dispose()


if __name__ == "__main__":
    main()
