"""Benchmark: inbound service-desk messages per second through a messaging webhook endpoint.

    .venv/bin/python benchmarks/inbound_messages.py [--channel whatsapp|messenger]
        [--messages 2000] [--senders 500] [--concurrency 1] [--postgres ADMIN_URL]

Starts `uvicorn opencx.app:create_app` in a subprocess on a free localhost port against a
fresh SQLite file in a temporary folder (or, with --postgres, a fresh PostgreSQL database made
through ADMIN_URL and dropped afterwards), with the organization's app secret in its channel
settings. Posts `--messages` signed WhatsApp Cloud API (or Messenger) webhooks of one text
message each, from `--senders` phone numbers (or PSIDs; the first message of a sender creates
its customer and conversation, later ones continue it), and prints messages/s
and latency; then posts the very same webhooks again (each a duplicate) and prints that too.
It checks the answers and the rows stored, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from ingest_events import running_server, temporary_postgres
from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.channels import service as channels_service
from opencx.channels.schemas import ChannelSettingsIn
from opencx.conversations.models import ConversationChannel
from opencx.db import make_engine
from opencx.domains import load_domains

APP_SECRET = "benchmark-app-secret"
START = 1_764_000_000


def _whatsapp_payload(n: int, senders: int) -> dict[str, Any]:
    wa_id = f"316{10_000_000 + n % senders}"
    message = {
        "from": wa_id,
        "id": f"wamid.bench{n:08d}",
        "timestamp": str(START + n),
        "type": "text",
        "text": {"body": f"Waar blijft bestelling {n}? Het pakket is nog niet geleverd."},
    }
    value = {
        "messaging_product": "whatsapp",
        "contacts": [{"profile": {"name": f"Klant {n % senders}"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def _messenger_payload(n: int, senders: int) -> dict[str, Any]:
    event = {
        "sender": {"id": str(7_000_000_000_000 + n % senders)},
        "recipient": {"id": "1"},
        "timestamp": (START + n) * 1000,
        "message": {
            "mid": f"m_bench{n:08d}",
            "text": f"Waar blijft bestelling {n}? Het pakket is nog niet geleverd.",
        },
    }
    return {
        "object": "page",
        "entry": [{"id": "1", "time": (START + n) * 1000, "messaging": [event]}],
    }


PAYLOADS = {"whatsapp": _whatsapp_payload, "messenger": _messenger_payload}


def make_webhooks(count: int, senders: int, channel: str = "whatsapp") -> list[tuple[bytes, str]]:
    """`count` signed webhook bodies of one message each, round-robin over `senders` senders."""
    webhooks = []
    for n in range(count):
        body = json.dumps(PAYLOADS[channel](n, senders)).encode()
        signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        webhooks.append((body, f"sha256={signature}"))
    return webhooks


def post_all(
    base: str, webhooks: list[tuple[bytes, str]], concurrency: int, channel: str = "whatsapp"
) -> tuple[float, list[float], int, int]:
    """Post every webhook; wall seconds, per-request seconds, messages stored and duplicates."""
    url = f"{base}/api/v1/channels/{channel}/bench"
    latencies: list[float] = []
    stored = duplicates = 0

    def post(client: httpx.Client, webhook: tuple[bytes, str]) -> tuple[float, dict[str, int]]:
        body, signature = webhook
        headers = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        began = time.perf_counter()
        response = client.post(url, content=body, headers=headers)
        took = time.perf_counter() - began
        assert response.status_code == 200, response.text[:500]
        return took, response.json()

    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        began = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            for took, result in pool.map(lambda w: post(client, w), webhooks):
                latencies.append(took)
                stored += result["stored"]
                duplicates += result["duplicates"]
        wall = time.perf_counter() - began
    return wall, latencies, stored, duplicates


def _report(label: str, count: int, wall: float, latencies: list[float]) -> None:
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"{label}: {count / wall:,.0f} messages/s "
        f"(p50 {quantiles[49] * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms per webhook)"
    )


def run(url: str, data_dir: Path, args: argparse.Namespace) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        org = auth_service.create_organization(session, name="Bench", slug="bench")
        channels_service.update_channel_settings(
            session,
            org_id=org.id,
            data=ChannelSettingsIn(
                channel=ConversationChannel(args.channel), values={"app_secret": APP_SECRET}
            ),
        )
        session.commit()
    webhooks = make_webhooks(args.messages, args.senders, args.channel)
    with running_server(url, data_dir) as (base, _):
        wall, latencies, stored, duplicates = post_all(
            base, webhooks, args.concurrency, args.channel
        )
        assert (stored, duplicates) == (args.messages, 0), (stored, duplicates)
        _report("new messages", args.messages, wall, latencies)
        wall, latencies, stored, duplicates = post_all(
            base, webhooks, args.concurrency, args.channel
        )
        assert (stored, duplicates) == (0, args.messages), (stored, duplicates)
        _report("redelivered (duplicates)", args.messages, wall, latencies)
    with engine.connect() as conn:
        messages = conn.scalar(sa.text("SELECT count(*) FROM conversation_messages"))
        conversations = conn.scalar(sa.text("SELECT count(*) FROM conversations"))
        customers = conn.scalar(sa.text("SELECT count(*) FROM customers"))
    engine.dispose()
    expected_people = min(args.senders, args.messages)
    assert (messages, conversations, customers) == (args.messages, expected_people, expected_people)
    print(f"stored: {messages} messages, {conversations} conversations, {customers} customers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", choices=sorted(PAYLOADS), default="whatsapp")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--postgres", help="admin URL; default SQLite")
    args = parser.parse_args()
    load_domains()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        if not args.postgres:
            print(f"SQLite, {args.messages} {args.channel} webhooks from {args.senders} senders")
            run(f"sqlite:///{data_dir / 'bench.db'}", data_dir, args)
            return
        with temporary_postgres(args.postgres) as url:
            print(
                f"PostgreSQL, {args.messages} {args.channel} webhooks from {args.senders} senders"
            )
            run(url, data_dir, args)


if __name__ == "__main__":
    main()
