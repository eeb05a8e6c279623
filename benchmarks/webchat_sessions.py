"""Benchmark: concurrent web chat sessions and message-to-agent-screen latency.

    .venv/bin/python benchmarks/webchat_sessions.py [--sessions 200] [--rounds 5]
        [--postgres ADMIN_URL]

Starts `uvicorn opencx.app:create_app` in a subprocess on a free localhost port against a fresh
SQLite file (or a fresh PostgreSQL database made through ADMIN_URL, dropped afterwards). Opens
one agent inbox socket (/inbox/live, signed in by a real web session cookie) and `--sessions`
visitor sockets (/chat/ws/<org>), all held open together. Then, `--rounds` times, every visitor
sends one message at once; then each visitor sends one more, one at a time. The time from a
visitor's send to the agent socket receiving that message's event is the latency printed
(p50/p99), the path an agent's screen takes. It checks
the acks, the agent's events and the rows stored, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
import websockets
from ingest_events import running_server, temporary_postgres
from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.auth.deps import SESSION_COOKIE
from opencx.auth.models import Role
from opencx.db import make_engine
from opencx.domains import load_domains


async def _agent(base: str, cookie: str, seen: dict[int, float], ready: asyncio.Event) -> None:
    async with websockets.connect(
        f"ws://{base}/inbox/live", additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}
    ) as agent:
        ready.set()
        async for text in agent:
            event = json.loads(text)
            if event.get("type") == "message" and event.get("direction") == "inbound":
                seen[event["message_id"]] = time.perf_counter()


async def _send(visitor: websockets.ClientConnection, sent: dict[int, float], body: str) -> None:
    began = time.perf_counter()
    message_id = uuid.uuid4().hex
    await visitor.send(json.dumps({"type": "message", "id": message_id, "body": body}))
    while True:
        answer = json.loads(await visitor.recv())
        if answer["type"] == "ack":
            break
        assert answer["type"] == "presence", answer
    assert answer["id"] == message_id and not answer["duplicate"], answer
    sent[answer["message"]["id"]] = began


async def _visitor(
    base: str,
    rounds: int,
    start_round: list[asyncio.Event],
    connected: asyncio.Semaphore,
    sent: dict[int, float],
    quiet_turn: asyncio.Event,
    quiet_done: asyncio.Event,
) -> None:
    async with websockets.connect(f"ws://{base}/chat/ws/bench", max_queue=None) as visitor:
        await visitor.send(json.dumps({"type": "hello", "token": None}))
        welcome = json.loads(await visitor.recv())
        assert welcome["type"] == "welcome" and welcome["agents_online"] is True, welcome
        connected.release()
        for n in range(rounds):
            await start_round[n].wait()
            await _send(visitor, sent, f"Q {n}")
        await quiet_turn.wait()
        await _send(visitor, sent, "one at a time")
        quiet_done.set()


def _quantiles(latencies: list[float]) -> str:
    latencies = sorted(latencies)
    q = statistics.quantiles(latencies, n=100)
    return (
        f"p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )


async def measure(base: str, cookie: str, sessions: int, rounds: int) -> None:
    seen: dict[int, float] = {}
    sent: dict[int, float] = {}
    ready = asyncio.Event()
    agent = asyncio.create_task(_agent(base, cookie, seen, ready))
    await ready.wait()
    connected = asyncio.Semaphore(0)
    start_round = [asyncio.Event() for _ in range(rounds)]
    began = time.perf_counter()
    turns = [(asyncio.Event(), asyncio.Event()) for _ in range(sessions)]
    visitors = [
        asyncio.create_task(_visitor(base, rounds, start_round, connected, sent, *turn))
        for turn in turns
    ]
    for _ in range(sessions):
        await connected.acquire()
    print(f"{sessions} visitor sessions open in {time.perf_counter() - began:.1f} s")
    round_walls = []
    for n in range(rounds):
        round_began = time.perf_counter()
        start_round[n].set()
        while len(sent) < sessions * (n + 1):
            await asyncio.sleep(0.005)
        round_walls.append(time.perf_counter() - round_began)
    burst = set(sent)
    # Then one message at a time (each visitor once, the others idle but connected).
    for turn, done in turns:
        turn.set()
        await done.wait()
    await asyncio.gather(*visitors)
    deadline = time.monotonic() + 30
    while len(seen) < len(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    agent.cancel()
    missing = set(sent) - set(seen)
    assert not missing, f"{len(missing)} messages never reached the agent"
    total = sessions * rounds
    print(
        f"{total} messages ({sessions} at once, {rounds} rounds): "
        f"{total / sum(round_walls):,.0f} messages/s stored and acknowledged"
    )
    print(
        f"message to agent screen, {sessions} at once: {_quantiles([seen[m] - sent[m] for m in burst])}"
    )
    quiet = [seen[m] - sent[m] for m in set(sent) - burst]
    print(f"message to agent screen, one at a time: {_quantiles(quiet)}")


def run(url: str, data_dir: Path, args: argparse.Namespace) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        org = auth_service.create_organization(session, name="Bench", slug="bench")
        user = auth_service.create_user(
            session,
            org_id=org.id,
            email="agent@bench.example",
            name="Bench Agent",
            role=Role.agent,
            password="benchmark password",
        )
        cookie, _ = auth_service.create_web_session(session, user=user, hours=1)
        session.commit()
    with running_server(url, data_dir) as (address, _):
        host = address.removeprefix("http://")
        asyncio.run(measure(host, cookie, args.sessions, args.rounds))
    with engine.connect() as conn:
        messages = conn.scalar(sa.text("SELECT count(*) FROM conversation_messages"))
        conversations = conn.scalar(sa.text("SELECT count(*) FROM conversations"))
    engine.dispose()
    assert (messages, conversations) == (args.sessions * (args.rounds + 1), args.sessions)
    print(f"stored: {messages} messages in {conversations} conversations")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="admin URL; default SQLite")
    args = parser.parse_args()
    load_domains()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        if not args.postgres:
            print(f"SQLite, {args.sessions} sessions")
            run(f"sqlite:///{data_dir / 'bench.db'}", data_dir, args)
            return
        with temporary_postgres(args.postgres) as url:
            print(f"PostgreSQL, {args.sessions} sessions")
            run(url, data_dir, args)


if __name__ == "__main__":
    main()
