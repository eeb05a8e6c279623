"""The server's background rounds: `jobs.repeat` runs work on an interval until stopped."""

from __future__ import annotations

import threading

import pytest

from opencx.jobs import repeat


def _run(at_start: bool, work_rounds: int, fail_first: bool = False) -> tuple[list[int], int]:
    """Run `repeat` in a thread until `work_rounds` rounds ran; (rounds seen, failures)."""
    stop, done = threading.Event(), threading.Event()
    rounds: list[int] = []
    failures = 0

    def work() -> None:
        nonlocal failures
        rounds.append(len(rounds) + 1)
        if len(rounds) >= work_rounds:
            done.set()
        if fail_first and len(rounds) == 1:
            failures += 1
            raise RuntimeError("the first round fails")

    thread = threading.Thread(
        target=repeat,
        args=(work,),
        kwargs={"every_seconds": 0.01, "stop": stop, "at_start": at_start, "what": "test"},
    )
    thread.start()
    assert done.wait(10), "the rounds did not come"
    stop.set()
    thread.join(10)
    assert not thread.is_alive(), "repeat did not stop"
    return rounds, failures


def test_repeat_runs_round_after_round_until_stopped() -> None:
    rounds, _ = _run(at_start=True, work_rounds=3)
    assert rounds[:3] == [1, 2, 3]


def test_a_failed_round_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    rounds, failures = _run(at_start=True, work_rounds=2, fail_first=True)
    assert failures == 1
    assert rounds[:2] == [1, 2]
    assert "test failed; retrying in 0.01 s" in caplog.text


def test_without_at_start_the_first_round_waits_and_stopping_first_runs_nothing() -> None:
    stop = threading.Event()
    stop.set()
    ran: list[int] = []
    repeat(lambda: ran.append(1), every_seconds=60, stop=stop, at_start=False, what="test")
    assert ran == []
    # at_start runs one round even when already stopped, then returns
    repeat(lambda: ran.append(1), every_seconds=60, stop=stop, at_start=True, what="test")
    assert ran == [1]
