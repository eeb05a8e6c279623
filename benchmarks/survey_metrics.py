"""Benchmark: NPS per touchpoint and ISO week, with 95% intervals, over 1,000,000 survey responses.

    .venv/bin/python benchmarks/survey_metrics.py [--responses 1000000] [--runs 7]

Writes synthetic responses (about 50 touchpoints, 52 weeks, NPS, CSAT and CES surveys) into a
fresh analytics store (a DuckDB file) beside a SQLite operational store holding the organization
and its touchpoints, then times `compute_survey_scores(metric="nps", by="touchpoint",
grain="week")`: the service path (the Ibis metric on DuckDB, the intervals, the touchpoint names),
asked again (its SQL compiled once) and as a new question each run (a period a day shorter).
For comparison pandas computes the same rows (filter, groupby, shares, interval) on the same
responses, held in memory as a DataFrame. Each side runs in its own process, so its peak memory
(ru_maxrss) is its own; the baseline is that process's peak before the first timed run. Both
print a checksum of their rows, which must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

TOUCHPOINTS = 50
WEEKS = 52
SURVEYS = {1: "nps", 2: "nps", 3: "csat", 4: "csat", 5: "ces", 6: "nps"}
END = date(2026, 11, 30)  # a Monday
START = END - timedelta(weeks=WEEKS)
Z_95 = 1.959963984540054


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _responses(count: int) -> Any:
    """`count` survey responses of organization 1 as an Arrow table of the analytics schema."""
    import numpy as np
    import pyarrow as pa

    from opencx.analytics.tables import TABLES_BY_NAME

    rng = np.random.default_rng(20261130)
    survey_id = rng.choice(list(SURVEYS), size=count, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.15])
    kind_of_survey = np.array(["", *(SURVEYS[n] for n in range(1, len(SURVEYS) + 1))])
    kind = kind_of_survey[survey_id]
    # Busy touchpoints get most answers (Zipf-like); each has its own mood (a score shift).
    weights = 1 / np.arange(1, TOUCHPOINTS + 1) ** 0.8
    touchpoint = rng.choice(TOUCHPOINTS, size=count, p=weights / weights.sum())
    mood = rng.normal(0, 1.2, TOUCHPOINTS)[touchpoint]
    nps_score = np.clip(np.rint(rng.normal(7.6, 2.2, count) + mood), 0, 10)
    csat_score = np.clip(np.rint(rng.normal(3.9, 1.0, count) + mood / 2), 1, 5)
    ces_score = np.clip(np.rint(rng.normal(5.2, 1.3, count) + mood / 2), 1, 7)
    score = np.where(kind == "nps", nps_score, np.where(kind == "csat", csat_score, ces_score))
    scored = rng.random(count) > 0.03  # a few opened the form and left
    seconds = rng.integers(0, WEEKS * 7 * 86400, count)
    start = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    submitted = np.datetime64(start.replace(tzinfo=None), "us") + seconds.astype("timedelta64[s]")
    ids = np.arange(1, count + 1)
    created = pa.array(np.full(count, np.datetime64(start.replace(tzinfo=None), "us")))
    columns = {
        "id": ids,
        "org_id": np.ones(count, dtype=np.int64),
        "invitation_id": ids,
        "survey_id": survey_id.astype(np.int64),
        "version_id": survey_id.astype(np.int64),
        "customer_id": pa.array(rng.integers(1, 200_000, count), mask=rng.random(count) < 0.1),
        "kind": kind,
        "channel": rng.choice(["email", "chat", "sms", "web"], size=count),
        "language": rng.choice(["en", "nl", "pl"], size=count),
        "touchpoint_id": pa.array(touchpoint + 1, mask=rng.random(count) < 0.02),
        "agent_id": pa.array(rng.integers(1, 40, count), mask=rng.random(count) < 0.5),
        "team": rng.choice(["Service NL", "Service PL", "Returns"], size=count),
        "score": pa.array(score.astype(np.int64), mask=~scored),
        "completed": scored & (rng.random(count) > 0.1),
        "submitted_at": submitted,
        "created_at": created,
        "updated_at": created,
    }
    schema = TABLES_BY_NAME["survey_responses"].schema.to_pyarrow()
    arrays = [pa.array(columns[f.name]).cast(f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _prepare(folder: Path, count: int) -> dict[str, Any]:
    """The operational store (organization, touchpoints) and the analytics store (responses)."""
    import pyarrow.parquet as pq

    from opencx import migrate
    from opencx.analytics.engine import analytics_connection
    from opencx.auth import service as auth
    from opencx.db import session_scope
    from opencx.journeys import service as journeys
    from opencx.journeys.schemas import TouchpointIn

    migrate.upgrade()
    with session_scope() as session:
        org = auth.create_organization(session, name="Bench", slug="bench")
        journeys.upsert_touchpoints(
            session,
            org_id=org.id,
            touchpoints=[
                TouchpointIn(
                    key=f"tp-{n}",
                    name=f"Touchpoint {n}",
                    stage="service",
                    channel="chat",
                    is_online=True,
                    department="service",
                )
                for n in range(1, TOUCHPOINTS + 1)
            ],
        )
    responses = _responses(count)
    with analytics_connection() as store:
        store.insert("survey_responses", responses)
    pq.write_table(responses, folder / "responses.parquet")
    return {"peak_mib": _peak_mib()}


def _checksum(rows: list[tuple[Any, date, int, float, float, float]]) -> dict[str, Any]:
    return {
        "rows": len(rows),
        "responses": sum(r[2] for r in rows),
        "nps": round(sum(r[3] for r in rows), 6),
        "low": round(sum(r[4] for r in rows), 6),
        "high": round(sum(r[5] for r in rows), 6),
    }


def _engine(runs: int) -> dict[str, Any]:
    from opencx.analytics import service
    from opencx.db import session_scope

    def scores(end: date) -> tuple[list[Any], float]:
        with session_scope() as session:
            began = time.perf_counter()
            rows = service.compute_survey_scores(
                session, org_id=1, metric="nps", by="touchpoint", grain="week", start=START, end=end
            )
            return rows, time.perf_counter() - began

    baseline = _peak_mib()
    times = []
    for _ in range(runs):
        rows, seconds = scores(END)
        times.append(seconds)
    # A question not asked before (a period ending one more day earlier each time) is compiled.
    new_question_times = [scores(END - timedelta(days=n))[1] for n in range(1, runs + 1)]
    checked = [(s.key, s.period_start, s.responses, s.value, s.low, s.high) for s in rows]
    return {
        "times": times,
        "new_question_times": new_question_times,
        "baseline_mib": baseline,
        "peak_mib": _peak_mib(),
        **_checksum(checked),
    }


def _pandas_nps(frame: Any) -> Any:
    """NPS per touchpoint and ISO week with its 95% interval, as the metric and service do."""
    import numpy as np
    import pandas as pd

    start = pd.Timestamp(START, tz="UTC")
    end = pd.Timestamp(END, tz="UTC")
    scored = frame[
        (frame["org_id"] == 1)
        & (frame["kind"] == "nps")
        & frame["score"].notna()
        & (frame["submitted_at"] >= start)
        & (frame["submitted_at"] < end)
    ]
    day = scored["submitted_at"].dt.tz_localize(None).dt.normalize()
    score = scored["score"]
    counted = pd.DataFrame(
        {
            "touchpoint_id": scored["touchpoint_id"],
            "week_start": day - pd.to_timedelta(day.dt.weekday, unit="D"),
            "promoter": (score >= 9).astype("int64"),
            "detractor": (score <= 6).astype("int64"),
        }
    )
    weekly = counted.groupby(["touchpoint_id", "week_start"], dropna=False).agg(
        responses=("promoter", "size"),
        promoters=("promoter", "sum"),
        detractors=("detractor", "sum"),
    )
    p = weekly["promoters"] / weekly["responses"]
    d = weekly["detractors"] / weekly["responses"]
    weekly["nps"] = 100 * (p - d)
    margin = 100 * Z_95 * np.sqrt(np.maximum(p + d - (p - d) ** 2, 0) / weekly["responses"])
    weekly["low"] = (weekly["nps"] - margin).clip(lower=-100)
    weekly["high"] = (weekly["nps"] + margin).clip(upper=100)
    return weekly.reset_index()


def _pandas(folder: Path, runs: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    frame = pq.read_table(folder / "responses.parquet").to_pandas()
    baseline = _peak_mib()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        weekly = _pandas_nps(frame)
        times.append(time.perf_counter() - began)
    rows = [
        (r.touchpoint_id, r.week_start.date(), r.responses, r.nps, r.low, r.high)
        for r in weekly.itertuples()
    ]
    return {"times": times, "baseline_mib": baseline, "peak_mib": _peak_mib(), **_checksum(rows)}


def _phase(folder: Path, phase: str, runs: int, responses: int = 0) -> dict[str, Any]:
    # A fresh process per phase, started by a parent that holds no data: its ru_maxrss is its own.
    command = [sys.executable, __file__, "--phase", phase, "--dir", str(folder)]
    done = subprocess.run(
        [*command, "--runs", str(runs), "--responses", str(responses)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--phase", choices=["prepare", "engine", "pandas"])
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    if args.phase:
        phases = {
            "prepare": lambda: _prepare(args.dir, args.responses),
            "engine": lambda: _engine(args.runs),
            "pandas": lambda: _pandas(args.dir, args.runs),
        }
        print(json.dumps(phases[args.phase](), default=str))
        return
    with tempfile.TemporaryDirectory(prefix="opencx-bench-") as name:
        folder = Path(name)
        os.environ["OPENCX_DATA_DIR"] = str(folder)
        os.environ["OPENCX_DATABASE_URL"] = f"sqlite:///{folder / 'opencx.db'}"
        os.environ["OPENCX_ANALYTICS_URL"] = f"duckdb:///{folder / 'analytics.duckdb'}"
        began = time.perf_counter()
        _phase(folder, "prepare", 0, args.responses)
        size = (folder / "analytics.duckdb").stat().st_size / 2**20
        print(
            f"{args.responses:,} responses written in {time.perf_counter() - began:.1f} s "
            f"(DuckDB file {size:.0f} MiB)"
        )
        engine = _phase(folder, "engine", args.runs)
        frame = _phase(folder, "pandas", args.runs)
    checks = ("rows", "responses", "nps", "low", "high")
    agree = all(abs(engine[k] - frame[k]) <= 1e-6 * max(1.0, abs(frame[k])) for k in checks)
    print(f"rows: {engine['rows']:,} (touchpoint x week), NPS responses: {engine['responses']:,}")
    print(f"same rows and values from both: {'yes' if agree else 'NO'}")
    for label, result in (("analytics engine (service)", engine), ("pandas", frame)):
        times = result["times"]
        print(
            f"{label:<28} median {statistics.median(times):.3f} s "
            f"(first {times[0]:.3f} s, min {min(times):.3f} s, max {max(times):.3f} s); "
            f"peak memory {result['peak_mib']:.0f} MiB ({result['baseline_mib']:.0f} before)"
        )
    fresh = engine["new_question_times"]
    print(
        f"{'engine, a new question each run':<28} median {statistics.median(fresh):.3f} s "
        f"(min {min(fresh):.3f} s, max {max(fresh):.3f} s)"
    )
    print(f"load average (1, 5, 15 min): {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    ratio = statistics.median(engine["times"]) / statistics.median(frame["times"])
    print(f"engine / pandas (median): {ratio:.2f}")
    if not agree:
        sys.exit("the engine and pandas disagree")


if __name__ == "__main__":
    main()
