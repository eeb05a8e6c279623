"""Benchmark: text enrichment (texts analysed and stored per second) and learning from comments.

    .venv/bin/python benchmarks/text_enrichment.py [--messages 3000] [--comments 1000]
        [--postgres ADMIN_URL]

Makes a fresh SQLite file in a temporary folder (or, with --postgres, a fresh PostgreSQL
database made through ADMIN_URL and dropped afterwards), stores `--messages` inbound messages
(Dutch, Polish and English) and `--comments` NPS responses with a comment through the domain
services, then times: learning sentiment from the rated comments, one full enrichment
(`enrich_texts`: read, analyse, store, batches of 2,000, one transaction each), learning the
topics, and a reanalysis of everything (now with topics assigned). Prints texts/s and checks the rows stored.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, select

MESSAGES = (
    "Waar blijft mijn bestelling {n}? Het pakket is nog niet geleverd.",
    "De bank is kapot aangekomen, ik wil mijn geld terug (order {n}).",
    "Bedankt voor de snelle hulp met bestelling {n}!",
    "Gdzie jest moja paczka {n}? Nadal czekam na dostawę.",
    "Stół przyszedł uszkodzony, proszę o zwrot pieniędzy za zamówienie {n}.",
    "Dziękuję za szybką odpowiedź w sprawie zamówienia {n}.",
    "My order {n} arrived late and the box was damaged.",
    "Thanks a lot, the replacement for order {n} came quickly.",
    "Can you tell me when order {n} will be delivered?",
)
NEGATIVE = ("wobbles on every leg", "cushions sag after a week", "veneer is peeling", "creaks")
POSITIVE = ("is solid oak and sturdy", "fits the alcove perfectly", "feels cosy", "drawers glide")
PRODUCTS = ("sofa", "dining table", "wardrobe", "armchair", "bed frame", "bookcase", "desk")


def _fresh_database(postgres_admin: str | None, folder: Path) -> tuple[str, object]:
    if not postgres_admin:
        return f"sqlite:///{folder / 'bench.db'}", None
    name = f"opencx_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(postgres_admin).set(database=name)
    return url.render_as_string(hide_password=False), (admin, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--postgres", default=None, help="admin URL; default SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, cleanup = _fresh_database(args.postgres, Path(tmp))
        os.environ.update(OPENCX_DATABASE_URL=url, OPENCX_DATA_DIR=tmp, OPENCX_ENVIRONMENT="test")
        try:
            run(url, args.messages, args.comments)
        finally:
            from opencx.db import reset_caches

            reset_caches()
            if cleanup is not None:
                admin, name = cleanup
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(url: str, message_count: int, comment_count: int) -> None:
    from opencx import migrate
    from opencx.auth import service as auth
    from opencx.conversations import service as conversations
    from opencx.conversations.schemas import InboundMessageIn
    from opencx.customers import service as customers
    from opencx.customers.schemas import CustomerIn
    from opencx.db import session_scope
    from opencx.domains import load_domains
    from opencx.surveys import service as surveys
    from opencx.surveys.schemas import InvitationIn, SurveyIn
    from opencx.textanalytics import service
    from opencx.textanalytics.models import AnalyzedText
    from opencx.textanalytics.tasks import enrich_texts

    load_domains()
    migrate.upgrade(url)
    rng = random.Random(11)
    started = time.perf_counter()
    with session_scope() as session:
        org = auth.create_organization(session, name="Bench", slug="bench")
        org.settings = {"survey_throttle_days": 0}
        org_id = org.id
        for n in range(message_count):
            conversations.record_inbound_message(
                session,
                org_id=org_id,
                data=InboundMessageIn.model_validate(
                    {
                        "channel": "email",
                        "channel_message_id": f"<bench-{n}@example.com>",
                        "sender": {"kind": "email", "value": f"klant{n % 300}@example.com"},
                        "body": MESSAGES[n % len(MESSAGES)].format(n=n),
                        "received_at": datetime.now(UTC),
                    }
                ),
            )
        survey = surveys.create_survey(
            session, org_id=org_id, data=SurveyIn(name="After delivery", kind="nps")
        )
        surveys.publish_survey(session, org_id=org_id, survey_id=survey.id)
        customer, _ = customers.upsert_customer(
            session,
            org_id=org_id,
            data=CustomerIn.model_validate(
                {
                    "first_name": "Emma",
                    "language": "en",
                    "identities": [{"kind": "email", "value": "emma@example.com"}],
                    "consents": [{"purpose": "surveys", "channel": "email", "status": "granted"}],
                }
            ),
            source="bench",
        )
        for n in range(comment_count):
            negative = n % 2 == 0
            phrase = rng.choice(NEGATIVE if negative else POSITIVE)
            invitation = surveys.create_invitation(
                session,
                org_id=org_id,
                survey_id=survey.id,
                data=InvitationIn(customer_id=customer.id, channel="email"),
            )
            surveys.record_answers(
                session,
                token=invitation.token,
                form={
                    "shown": ["score", "why"],
                    "q_score": [str(rng.randint(0, 6) if negative else rng.randint(9, 10))],
                    "q_why": [f"The {rng.choice(PRODUCTS)} {phrase}"],
                },
            )
    print(
        f"arranged {message_count} messages and {comment_count} comments "
        f"in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})"
    )

    started = time.perf_counter()
    with session_scope() as session:
        models = service.train_organization_sentiment(session, org_id=org_id)
    for model in models:
        print(
            f"learn {model.language}: {model.counts}  default {model.default}  "
            f"learned {model.learned}  chosen {model.chosen}  "
            f"({time.perf_counter() - started:.1f} s in all)"
        )
    total = message_count + comment_count
    for label in ("enrich", "reanalyze, topics assigned too"):
        if label != "enrich":
            # learn the topics of the analysed texts, so that the reanalysis assigns them too
            started = time.perf_counter()
            with session_scope() as session:
                topic_models = service.learn_organization_topics(session, org_id=org_id)
            print(
                "learn topics: "
                + ", ".join(
                    f"{m.language} {m.topic_count} from {m.text_count}" for m in topic_models
                )
                + f" in {time.perf_counter() - started:.1f} s (assigned to every text)"
            )
            with session_scope() as session:
                service.reanalyze_texts(session, org_id=org_id)
        started = time.perf_counter()
        totals = enrich_texts(org_id)
        seconds = time.perf_counter() - started
        assert totals["analyzed"] == total and totals["failed"] == 0, totals
        print(f"{label}: {total} texts in {seconds:.1f} s = {total / seconds:,.0f} texts/s")
    with session_scope() as session:
        stored = session.scalar(
            select(func.count()).select_from(AnalyzedText).where(AnalyzedText.org_id == org_id)
        )
    assert stored == total, stored


if __name__ == "__main__":
    main()
