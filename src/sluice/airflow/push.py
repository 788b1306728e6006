"""The task callables' figures pushed to a Pushgateway when $SLUICE_METRICS_PUSH_URL is set
(docs/monitoring.md): each task instance's own group, job the DAG's id, then its run, task
and (when mapped) map index, so two tasks of one run never replace each other's figures.
Airflow puts the ids in each task's environment (AIRFLOW_CTX_*); outside a task (a test, a
script) the job is the callable's name and the run the process's own."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import TypeVar

PUSH_ENV = "SLUICE_METRICS_PUSH_URL"
F = TypeVar("F", bound=Callable)


def pushed(fn: F) -> F:
    """`fn`'s figures pushed every 15 s while it runs and once when it ends (or fails)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with pushing(fn.__name__):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def pushing(name: str) -> Iterator[None]:
    url = os.environ.get(PUSH_ENV)
    if not url:
        yield
        return
    from sluice.core.prometheus import exported

    job, group = grouping(name)
    with exported(job, url, grouping=group):
        yield


def grouping(name: str) -> tuple[str, dict[str, str]]:
    """The job and grouping key of this task instance's figures on the Pushgateway."""
    from sluice.core.prometheus import run_id

    env = os.environ
    group = {"run": env.get("AIRFLOW_CTX_DAG_RUN_ID") or run_id(),
             "task": env.get("AIRFLOW_CTX_TASK_ID") or name}  # fmt: skip
    index = _map_index()
    if index >= 0:
        group["map_index"] = str(index)
    return env.get("AIRFLOW_CTX_DAG_ID") or f"sluice_{name}", group


def _map_index() -> int:
    """The running task instance's map index (-1: not mapped, or not in a task)."""
    try:
        from airflow.sdk import get_current_context

        return int(get_current_context()["ti"].map_index)
    except Exception:
        return -1
