"""Time the team's survey pages and, above all, the live polls they make every 5 seconds.

Usage: .venv/bin/python benchmarks/survey_team_pages.py [--responses N] [--runs N]
A fresh SQLite file gets one NPS survey with N responses (60% with a comment) from 1,000
customers, inserted in bulk, then synced to the analytics store. Pages are served by the real app
in process (TestClient, signed in as the admin); it prints the median and 95th percentile per
request and the answer's size. A poll with nothing new answers 204 with no body.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PASSWORD = "benchmark password"


def arrange(responses: int) -> int:
    """The organization, its admin, a published NPS survey and its responses; the survey id."""
    from sqlalchemy import insert, select

    from opencx.analytics.sync import sync_to_analytics
    from opencx.auth import service as auth
    from opencx.auth.models import Role
    from opencx.customers import service as customers
    from opencx.customers.models import Customer
    from opencx.db import session_scope
    from opencx.surveys import service
    from opencx.surveys.models import SurveyInvitation, SurveyResponse
    from opencx.surveys.schemas import SurveyIn

    rng = random.Random(7)
    now = datetime.now(UTC)
    with session_scope() as session:
        org = auth.create_organization(session, name="Bench", slug="bench")
        auth.create_user(
            session,
            org_id=org.id,
            email="admin@bench.example",
            name="Admin",
            role=Role.admin,
            password=PASSWORD,
        )
        survey = service.create_survey(
            session, org_id=org.id, data=SurveyIn(name="After delivery", kind="nps")
        )
        service.publish_survey(session, org_id=org.id, survey_id=survey.id)
        customers.import_customers(
            session,
            org_id=org.id,
            rows=[
                {
                    "first_name": f"Customer{n}",
                    "identities": [{"kind": "email", "value": f"c{n}@bench.example"}],
                }
                for n in range(1000)
            ],
            source="benchmark",
        )
        customer_ids = session.scalars(select(Customer.id).where(Customer.org_id == org.id)).all()
        for start in range(0, responses, 5000):
            count = min(5000, responses - start)
            moments = [now - timedelta(minutes=rng.randrange(60 * 24 * 80)) for _ in range(count)]
            invitations = session.scalars(
                insert(SurveyInvitation).returning(SurveyInvitation.id),
                [
                    {
                        "org_id": org.id,
                        "survey_id": survey.id,
                        "customer_id": customer_ids[(start + n) % 1000],
                        "channel": "email",
                        "language": "nl",
                        "expires_at": moment + timedelta(days=14),
                        "created_at": moment,
                        "updated_at": moment,
                    }
                    for n, moment in enumerate(moments)
                ],
            ).all()
            rows = []
            for invitation_id, moment, n in zip(invitations, moments, range(count), strict=True):
                score = rng.choice([0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10])
                answers = {"score": score}
                if rng.random() < 0.6:
                    answers["why"] = f"Comment number {start + n} about the delivery"
                rows.append(
                    {
                        "org_id": org.id,
                        "invitation_id": invitation_id,
                        "survey_id": survey.id,
                        "version_id": survey.version_id,
                        "customer_id": customer_ids[(start + n) % 1000],
                        "kind": "nps",
                        "channel": "email",
                        "language": "nl",
                        "score": score,
                        "answers": answers,
                        "completed": True,
                        "submitted_at": moment,
                        "created_at": moment,
                        "updated_at": moment,
                    }
                )
            session.execute(insert(SurveyResponse), rows)
        survey_id = survey.id
    sync_to_analytics()
    return survey_id


def poll_url(html: str, element_id: str) -> str:
    """The address the element with this id polls (its hx-get)."""
    tag = html.split(f'id="{element_id}"')[1].split(">")[0]
    return tag.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="opencx-survey-bench-"))
    os.environ["OPENCX_DATABASE_URL"] = f"sqlite:///{workdir / 'opencx.db'}"
    os.environ["OPENCX_DATA_DIR"] = str(workdir)
    os.environ["OPENCX_ANALYTICS_SYNC_SECONDS"] = "0"

    from fastapi.testclient import TestClient

    from opencx import migrate
    from opencx.app import create_app

    migrate.upgrade()
    started = time.perf_counter()
    survey_id = arrange(args.responses)
    print(
        f"{args.responses:,} responses inserted and synced: {time.perf_counter() - started:.1f} s"
    )
    with TestClient(create_app()) as client:
        form = client.get("/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={"email": "admin@bench.example", "password": PASSWORD, "csrf_token": token},
        )
        results_poll = poll_url(client.get(f"/surveys/{survey_id}/results").text, "live-responses")
        comments_poll = poll_url(client.get("/surveys/comments").text, "comments")
        requests = {
            "live poll, results, nothing new (204)": results_poll,
            "live poll, comments, nothing new (204)": comments_poll,
            "live poll, results, changed (fragment)": f"/surveys/{survey_id}/results/live?stamp=x",
            "comments page 1": "/surveys/comments",
            "comments page 20": "/surveys/comments?page=20",
            "comments of detractors": "/surveys/comments?group=detractor",
            "results (12 weeks)": f"/surveys/{survey_id}/results",
            "survey list": "/surveys",
            "builder": f"/surveys/{survey_id}/edit",
            "preview (nl)": f"/surveys/{survey_id}/preview?lang=nl",
        }
        print(
            f"\n{'request':<42} {'median ms':>10} {'p95 ms':>8} {'bytes':>8}   ({args.runs} runs)"
        )
        for label, path in requests.items():
            client.get(path)
            times: list[float] = []
            size = 0
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code in (200, 204), (path, response.status_code)
                size = len(response.content)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"{label:<42} {statistics.median(times):>10.1f} {p95:>8.1f} {size:>8,}")


if __name__ == "__main__":
    main()
