"""Benchmark: survey answers posted to the public page /s/{token}, against the real app under uvicorn.

    .venv/bin/python benchmarks/survey_responses.py [--responses 2000] [--rate 500]
        [--concurrency 8]

Starts `uvicorn opencx.app:create_app` on a fresh SQLite file (one worker), makes an organization
with a published NPS survey and one invitation per customer, then:

1. **throughput**: posts one answer per token as fast as `--concurrency` connections allow and
   prints responses/s with p50/p99 latency;
2. **paced**: posts another token's answer every 1/`--rate` seconds for as long as the tokens
   last (open loop: latency counts from the moment a request was due, so a server that falls
   behind shows it) and prints the achieved rate and p50/p99.

It checks the stored rows afterwards (one completed response per token), so a fast wrong answer
cannot pass. Figures depend on the machine; read them beside its load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from ingest_events import _cpu_seconds, running_server
from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.customers import service as customers_service
from opencx.db import make_engine
from opencx.domains import load_domains
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InvitationIn, SurveyIn


def prepare(url: str, customers: int) -> list[str]:
    """Migrate, then an organization, a published NPS survey and one invitation per customer."""
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        org = auth_service.create_organization(session, name="Bench", slug="bench")
        rows = [
            {
                "language": ("en", "nl", "pl")[n % 3],
                "identities": [{"kind": "email", "value": f"c{n}@bench.example"}],
                "consents": [{"purpose": "surveys", "channel": "email", "status": "granted"}],
            }
            for n in range(customers)
        ]
        report = customers_service.import_customers(
            session, org_id=org.id, rows=rows, source="benchmark"
        )
        assert report.ok, report.errors[:3]
        survey = surveys.create_survey(
            session, org_id=org.id, data=SurveyIn(name="After delivery", kind="nps")
        )
        surveys.publish_survey(session, org_id=org.id, survey_id=survey.id)
        customer_ids = list(session.scalars(sa.text("SELECT id FROM customers ORDER BY id")))
        tokens = [
            surveys.create_invitation(
                session,
                org_id=org.id,
                survey_id=survey.id,
                data=InvitationIn(customer_id=customer_id, channel="email"),
            ).token
            for customer_id in customer_ids
        ]
        session.commit()
    engine.dispose()
    return tokens


def _form(n: int) -> dict[str, object]:
    """A whole answer: promoters and passives say why, detractors also what went wrong."""
    score = n % 11
    if score > 6:
        return {"shown": ["score", "why"], "q_score": str(score), "q_why": "Snel en vriendelijk"}
    return {
        "shown": ["score", "why", "what_went_wrong"],
        "q_score": str(score),
        "q_what_went_wrong": "Te laat geleverd",
    }


async def _post(client: httpx.AsyncClient, token: str, n: int) -> None:
    response = await client.post(f"/s/{token}", data=_form(n))
    assert response.status_code == 200, response.text[:300]


async def throughput(base: str, tokens: list[str], concurrency: int) -> tuple[float, list[float]]:
    """Every token answered once over `concurrency` connections; wall seconds and latencies."""
    latencies: list[float] = []
    queue = list(enumerate(tokens))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker() -> None:
            while queue:
                n, token = queue.pop()
                began = time.perf_counter()
                await _post(client, token, n)
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - began, latencies


async def paced(base: str, tokens: list[str], rate: float) -> tuple[float, list[float]]:
    """One answer due every 1/rate s; latency from when it was due (no coordinated omission)."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=256)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        start = time.perf_counter() + 0.1

        async def one(n: int, token: str) -> None:
            due = start + n / rate
            await asyncio.sleep(max(due - time.perf_counter(), 0))
            await _post(client, token, n)
            latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(one(n, t) for n, t in enumerate(tokens)))
        return time.perf_counter() - start, latencies


def _report(label: str, count: int, wall: float, latencies: list[float]) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{label:<11} {count:>6} responses in {wall:6.2f} s = {count / wall:7.0f}/s   "
        f"p50 {cuts[49] * 1000:6.1f} ms   p99 {cuts[98] * 1000:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=2000, help="per phase")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    # The server and this process must sign and check tokens with the same key.
    os.environ["OPENCX_SECRET_KEY"] = secrets.token_urlsafe(48)
    load_domains()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        url = f"sqlite:///{data_dir / 'bench.db'}"
        began = time.perf_counter()
        tokens = prepare(url, 2 * args.responses)
        print(f"prepared {len(tokens)} invitations in {time.perf_counter() - began:.1f} s")
        first, second = tokens[: args.responses], tokens[args.responses :]
        with running_server(url, data_dir) as (base, pid):
            cpu = _cpu_seconds(pid)
            wall, latencies = asyncio.run(throughput(base, first, args.concurrency))
            _report("throughput", len(first), wall, latencies)
            wall, latencies = asyncio.run(paced(base, second, args.rate))
            _report(f"at {args.rate:.0f}/s", len(second), wall, latencies)
            per_1000 = (_cpu_seconds(pid) - cpu) / len(tokens) * 1000
            print(f"server CPU: {per_1000:.2f} s per 1,000 responses")
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = conn.scalar(sa.text("SELECT count(*) FROM survey_responses WHERE completed"))
        engine.dispose()
        assert stored == len(tokens), f"{stored} completed responses stored, {len(tokens)} sent"
        print(f"checked: {stored} completed responses stored, one per token")


if __name__ == "__main__":
    main()
