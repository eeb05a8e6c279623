"""The Celery application, used only when OPENCX_JOBS_BACKEND=celery (pip install opencx[celery])."""

from __future__ import annotations

from typing import Any

from celery import Celery

from opencx.jobs import run_task
from opencx.settings import get_settings

celery = Celery("opencx", broker=get_settings().redis_url, backend=get_settings().redis_url)


@celery.task(name="opencx.run_task")
def run_task_on_worker(path: str, kwargs: dict[str, Any]) -> Any:
    return run_task(path, kwargs)
