"""Benchmark: survey answers posted to the public page /s/{token}, against the real app under uvicorn.

    .venv/bin/python benchmarks/survey_responses.py [--rate 500] [--seconds 20]
        [--responses 2000] [--concurrency 8] [--workers 1]

Starts `uvicorn opencx.app:create_app` on a fresh SQLite file, makes an organization with a
published NPS survey and one invitation per answer to come, then:

1. **throughput** (also the warm-up): `--responses` answers as fast as `--concurrency`
   connections allow; responses/s and latencies;
2. **paced**: one answer due every 1/`--rate` seconds for `--seconds` seconds (open loop: latency
   counts from the moment a request was due, so a server that falls behind shows it, and new
   requests keep coming on new connections while old ones wait).

Each phase prints the achieved rate, p50/p90/p99/max latency, the answers that were not a 200,
and the server's CPU per 1,000 answers (all its processes; load on the machine cannot inflate
it much). The client is a few lines of HTTP/1.1 over keep-alive connections rather than httpx,
so that the load generator takes a small share of the CPU it shares with the server; its CPU is
printed too. Afterwards it checks the stored rows: one completed response per answered token,
so a fast wrong answer cannot pass. Figures depend on the machine; read them beside its load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from ingest_events import running_server
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


def _form(n: int) -> bytes:
    """A whole answer: promoters and passives say why, detractors also what went wrong."""
    score = n % 11
    if score > 6:
        fields = {"shown": ["score", "why"], "q_score": str(score), "q_why": "Snel en vriendelijk"}
    else:
        fields = {
            "shown": ["score", "why", "what_went_wrong"],
            "q_score": str(score),
            "q_what_went_wrong": "Te laat geleverd",
        }
    return urlencode(fields, doseq=True).encode()


KEEP_ALIVE_S = 4.0
_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


class Connections:
    """Keep-alive HTTP/1.1 connections to the server, a new one whenever none is free."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        # (reader, writer, when it was last used)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def post_form(self, path: str, body: bytes) -> int:
        """POST a form; returns the status code (0 when the connection failed)."""
        # uvicorn closes a connection idle for 5 s; one idle that long is not reused.
        while self.idle and self.idle[-1][2] < time.perf_counter() - KEEP_ALIVE_S:
            self.idle.pop()[1].close()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            if self.idle:
                reader, writer, _ = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return 0
        try:
            writer.write(head.encode() + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            length = _LENGTH.search(answer)
            await reader.readexactly(int(length[1]) if length else 0)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return 0
        self.idle.append((reader, writer, time.perf_counter()))
        return int(answer[9:12])

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


@dataclass
class Phase:
    """What one phase measured."""

    label: str
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    # invitation id -> the score sent, for every answer the server took (a 200)
    answered: dict[int, int] = field(default_factory=dict)
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def report(self) -> None:
        count = len(self.latencies)
        cuts = sorted(self.latencies)

        def at(share: float) -> float:
            return cuts[min(int(share * count), count - 1)] * 1000

        failed = {s: n for s, n in self.statuses.items() if s != 200}
        print(
            f"{self.label:<11} {count:>6} in {self.wall:6.2f} s = {count / self.wall:5.0f}/s  "
            f"p50 {at(0.50):7.1f}  p90 {at(0.90):7.1f}  p99 {at(0.99):7.1f}  "
            f"max {cuts[-1] * 1000:7.1f} ms  not 200: {failed or 0}  "
            f"CPU per 1,000: server {self.server_cpu / count * 1000:.2f} s, "
            f"client {self.client_cpu / count * 1000:.2f} s"
        )


async def _answer(pool: Connections, phase: Phase, n: int, token: str, since: float) -> None:
    status = await pool.post_form(f"/s/{token}", _form(n))
    phase.latencies.append(time.perf_counter() - since)
    phase.statuses[status] += 1
    if status == 200:
        phase.answered[int(token.split("-")[0])] = n % 11


async def throughput(base: str, tokens: list[str], concurrency: int, phase: Phase) -> None:
    """Every token answered once over `concurrency` connections."""
    pool = Connections(base)
    queue = list(enumerate(tokens))

    async def worker() -> None:
        while queue:
            n, token = queue.pop()
            await _answer(pool, phase, n, token, time.perf_counter())

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.wall = time.perf_counter() - began
    pool.close()


async def paced(base: str, tokens: list[str], rate: float, phase: Phase) -> None:
    """One answer due every 1/rate s; latency from when it was due (no coordinated omission)."""
    pool = Connections(base)
    pending: set[asyncio.Task[None]] = set()
    start = time.perf_counter() + 0.1
    for n, token in enumerate(tokens):
        due = start + n / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(_answer(pool, phase, n, token, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    phase.wall = time.perf_counter() - start
    pool.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn's workers), from /proc."""
    total = 0.0
    for process in (pid, *_children(pid)):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def _run(phase: Phase, pid: int, work: object) -> Phase:
    server, client = _cpu_seconds(pid), time.process_time()
    asyncio.run(work)  # type: ignore[arg-type]
    phase.server_cpu = _cpu_seconds(pid) - server
    phase.client_cpu = time.process_time() - client
    phase.report()
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=2000, help="throughput phase")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=500, help="paced phase, answers/s")
    parser.add_argument("--seconds", type=float, default=20, help="paced phase length")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    # The server and this process must sign and check tokens with the same key.
    os.environ["OPENCX_SECRET_KEY"] = secrets.token_urlsafe(48)
    load_domains()
    paced_count = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        url = f"sqlite:///{data_dir / 'bench.db'}"
        began = time.perf_counter()
        tokens = prepare(url, args.responses + paced_count)
        print(f"prepared {len(tokens)} invitations in {time.perf_counter() - began:.1f} s")
        first, second = tokens[: args.responses], tokens[args.responses :]
        with running_server(url, data_dir, workers=args.workers) as (base, pid):
            phases = [
                _run(
                    phase := Phase("throughput"),
                    pid,
                    throughput(base, first, args.concurrency, phase),
                ),
                _run(
                    phase := Phase(f"at {args.rate:.0f}/s"),
                    pid,
                    paced(base, second, args.rate, phase),
                ),
            ]
        answered = {i: score for phase in phases for i, score in phase.answered.items()}
        engine = make_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT invitation_id, score, completed FROM survey_responses")
            ).all()
        engine.dispose()
        stored = {row.invitation_id: row.score for row in rows if row.completed}
        # Every 200 was stored whole with the score sent; a request that failed may or may not
        # have been (the client gave up, the server may still have committed).
        wrong = {
            i: (score, stored.get(i)) for i, score in answered.items() if stored.get(i) != score
        }
        assert not wrong, f"{len(wrong)} answers not stored as sent, e.g. {list(wrong.items())[:3]}"
        print(
            f"checked: {len(answered)} answers with a 200, each stored once, completed, with its "
            f"score ({len(rows)} responses in all for {len(tokens)} tokens)"
        )


if __name__ == "__main__":
    main()
