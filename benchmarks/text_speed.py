"""Text analytics speed and footprint: texts/s per core (language + sentiment + emotions), load time, memory.

Usage: .venv/bin/python benchmarks/text_speed.py [--texts N] [--batch N]
Runs in one process on one core (BLAS threads pinned to 1); short customer texts in nl, pl, en.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

SHORT_TEXTS = [
    "Het pakket kwam twee dagen te laat.",
    "Super snel geleverd, dank jullie wel!",
    "Ik wacht nog steeds op mijn terugbetaling.",
    "Paczka dotarła uszkodzona, proszę o zwrot.",
    "Bardzo miła obsługa i szybka dostawa.",
    "Nadal czekam na odpowiedź z reklamacji.",
    "The delivery was late and the box was damaged.",
    "Great service, the agent solved it in minutes.",
    "Still no refund after three weeks.",
    "ok",
]


def rss_mib() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as promised

    before = rss_mib()
    started = time.perf_counter()
    from opencx.text import analyze
    from opencx.text.language import detect_language
    from opencx.text.model import shipped_model

    detect_language("warm up the language identifier")
    for language in ("nl", "pl", "en"):
        shipped_model(language)
    analyze(["warm up the English model (and VADER where it is weighted)"], lang="en")
    load_seconds = time.perf_counter() - started
    print(f"load (import + language identifier + nl/pl/en models): {load_seconds:.2f} s")
    print(f"memory: peak RSS {rss_mib():.0f} MiB after loading (was {before:.0f} MiB)")

    texts = list(itertools.islice(itertools.cycle(SHORT_TEXTS), args.texts))
    texts = [f"{text} #{i}" if i % 2 else text for i, text in enumerate(texts)]
    started = time.perf_counter()
    for start in range(0, len(texts), args.batch):
        analyze(texts[start : start + args.batch])
    seconds = time.perf_counter() - started
    print(
        f"analyze, detected language: {len(texts)} short texts in batches of {args.batch}: "
        f"{len(texts) / seconds:,.0f} texts/s on one core"
    )
    started = time.perf_counter()
    for start in range(0, len(texts), args.batch):
        analyze(texts[start : start + args.batch], lang="nl")
    seconds = time.perf_counter() - started
    print(f"analyze, language given (nl): {len(texts) / seconds:,.0f} texts/s on one core")
    english = [t for t in texts if detect_language(t).language == "en"]
    started = time.perf_counter()
    analyze(english, lang="en")
    seconds = time.perf_counter() - started
    print(f"analyze, English: {len(english) / seconds:,.0f} texts/s on one core")
    print(f"memory: peak RSS {rss_mib():.0f} MiB after all runs")


if __name__ == "__main__":
    main()
