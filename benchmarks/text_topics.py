"""Topics: quality on demo-like customer messages, and speed of key phrases, discovery, assignment.

Usage: .venv/bin/python benchmarks/text_topics.py [--per-reason N] [--seed N]
Writes inbound messages as the demo world does (opencx.demo.texts: complaints, chats and questions
about late deliveries, damage, missing parts, defects, wrong items, slow refunds, where-is-my-order,
delivery changes, invoices, stock, warranty, assembly and returns) in nl, pl and en, learns the
topics of each language, and prints each topic's top phrases with the reason most of its texts
were written for (purity: the share of the topic's texts, by main topic, written for that reason).
Then measures texts/s on one core (BLAS threads pinned to 1).
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from opencx.demo.catalog import CATALOG  # noqa: E402
from opencx.demo.texts import (  # noqa: E402
    COMPLAINT_REASONS,
    QUESTION_REASONS,
    Writer,
    write_chat_complaint,
    write_complaint,
    write_question,
)
from opencx.text.topics import assign_topics, discover_topics, extract_phrases  # noqa: E402

NAMES = {"nl": ("Sanne", "female"), "pl": ("Kasia", "female"), "en": ("Oliver", "male")}


def demo_messages(language: str, per_reason: int, seed: int) -> list[tuple[str, str]]:
    """(text, reason) of inbound messages written like the demo world's customers write them."""
    rng = random.Random(seed)
    products = [item for item in CATALOG.values() if item.noun is not None]
    writer = Writer(language, *NAMES[language])
    messages = []
    for reason in (*COMPLAINT_REASONS, *QUESTION_REASONS):
        for i in range(per_reason):
            product = rng.choice(products)
            ordered = date(2026, 3, 1) + timedelta(days=rng.randint(0, 200))
            promised = ordered + timedelta(days=rng.randint(2, 10))
            order_ref = f"NW-{rng.randint(100000, 999999)}"
            if reason in COMPLAINT_REASONS:
                write = write_complaint if i % 2 else write_chat_complaint
                kwargs = {"ordered_on": ordered} if write is write_complaint else {}
                text = write(
                    rng, writer, product, reason=reason, order_ref=order_ref,
                    promised_on=promised, days_late=rng.randint(2, 9), **kwargs,
                )  # fmt: skip
            else:
                text = write_question(
                    rng, writer, product, reason=reason, order_ref=order_ref,
                    promised_on=promised, chat=bool(i % 2),
                )  # fmt: skip
            messages.append((text, reason))
    rng.shuffle(messages)
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-reason", type=int, default=40)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    for language in ("nl", "pl", "en"):
        messages = demo_messages(language, args.per_reason, args.seed)
        texts = [text for text, _ in messages]
        started = time.perf_counter()
        vocabulary = discover_topics(texts, language)
        learned_in = time.perf_counter() - started
        found = assign_topics(texts, vocabulary)
        main_reasons: dict[str, Counter[str]] = {t.key: Counter() for t in vocabulary.topics}
        for (_, reason), topics in zip(messages, found, strict=True):
            if topics:
                main_reasons[topics[0].key][reason] += 1
        covered = sum(1 for topics in found if topics)
        pure = sum(c.most_common(1)[0][1] for c in main_reasons.values() if c)
        print(
            f"\n{language}: {len(texts)} messages, {len(vocabulary.topics)} topics learned in "
            f"{learned_in:.1f} s; {covered / len(texts):.0%} have a topic; "
            f"purity {pure / max(covered, 1):.2f}"
        )
        for topic in vocabulary.topics:
            reasons = main_reasons[topic.key]
            if reasons:
                reason, n = reasons.most_common(1)[0]
                share = f"{reason} {n / sum(reasons.values()):.0%}"
            else:
                share = "no main texts"
            top = sorted(topic.phrases, key=lambda p: -topic.phrases[p])[:6]
            print(f"  {topic.label:<55} {share:<24} {' · '.join(top)}")
    # speed: the same texts many times, batched, lemma caches warm as in a running server
    texts = [text for language in ("nl", "pl", "en") for text, _ in demo_messages(language, 40, 7)]
    vocabulary = {
        lang: discover_topics([t for t, _ in demo_messages(lang, 40, 7)], lang)
        for lang in ("nl", "pl", "en")
    }
    batch = texts * 5
    started = time.perf_counter()
    extract_phrases(batch, "nl")
    phrases_rate = len(batch) / (time.perf_counter() - started)
    started = time.perf_counter()
    for lang in ("nl", "pl", "en"):
        assign_topics(batch[: len(batch) // 3], vocabulary[lang])
    assign_rate = len(batch) / (time.perf_counter() - started)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(
        f"\nspeed on one core ({len(batch)} messages of {words:.0f} words on average): "
        f"key phrases {phrases_rate:,.0f} texts/s; assigning topics {assign_rate:,.0f} texts/s"
    )


if __name__ == "__main__":
    main()
