"""Run background work inline on a thread pool by default, or on Celery with Redis when configured."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from opencx.settings import get_settings

log = logging.getLogger(__name__)


@lru_cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="opencx-job")


def _task_path(task: Callable[..., Any]) -> str:
    return f"{task.__module__}:{task.__qualname__}"


def run_task(path: str, kwargs: dict[str, Any]) -> Any:
    """Import `module:function` and call it; the same entry point for both backends."""
    module_name, func_name = path.split(":")
    return getattr(importlib.import_module(module_name), func_name)(**kwargs)


def submit(task: Callable[..., Any], **kwargs: Any) -> Future[Any] | None:
    """Queue a task (a module-level function taking keyword arguments that serialize as JSON)."""
    path = _task_path(task)
    if get_settings().jobs_backend == "celery":
        from opencx.celery_app import celery  # optional dependency, imported only when configured

        celery.send_task("opencx.run_task", kwargs={"path": path, "kwargs": kwargs})
        return None
    future = _pool().submit(run_task, path, kwargs)
    future.add_done_callback(_log_failure)
    return future


def _log_failure(future: Future[Any]) -> None:
    if future.exception() is not None:
        log.error("background job failed", exc_info=future.exception())


def repeat(
    work: Callable[[], object],
    *,
    every_seconds: float,
    stop: threading.Event,
    at_start: bool,
    what: str,
) -> None:
    """Run `work` every `every_seconds` until `stop` is set (the first round at once when
    `at_start`); a failed round is logged and the next one tries again. The server's threads."""
    if not at_start and stop.wait(every_seconds):
        return
    while True:
        try:
            work()
        except Exception:
            log.exception("%s failed; retrying in %s s", what, every_seconds)
        if stop.wait(every_seconds):
            return
