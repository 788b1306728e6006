"""Failure callbacks of the replication DAGs.

The DAG's own (`failure_callbacks`) writes a one-line summary of the failed run to the log.
Each task's (`task_failure_callbacks`, in the DAGs' default_args) alerts a person: the
notifier `SLUICE_FAILURE_NOTIFIER` names gets the failed task's DAG, task, table, key range
and error (`sluice.airflow.alerts`). The notifier is on the tasks and not on the DAG: only a
task's callback knows its exception and its chunk, and one failure then sends one message.
Nothing is read or built at parse time: the notifier is built when a task fails.
"""

from __future__ import annotations

import logging
from typing import Any

from sluice.airflow.alerts import on_task_failure
from sluice.core.urls import redact_all

log = logging.getLogger("sluice.airflow")


def summarize(context: dict[str, Any]) -> str:
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    where = "?"
    if ti is not None:
        index = getattr(ti, "map_index", -1)
        mapped = f"[{index}]" if index is not None and index >= 0 else ""
        where = f"{ti.dag_id}.{ti.task_id}{mapped} try {getattr(ti, 'try_number', '?')}"
    reason = redact_all(" ".join(str(exc).split())) if exc else "no exception recorded"
    return f"sluice replication failed: {where}: {type(exc).__name__ if exc else ''} {reason}"


def log_failure(context: dict[str, Any]) -> None:
    log.error(summarize(context))


def failure_callbacks() -> list:
    """The DAG's: the run's summary in the log."""
    return [log_failure]


def task_failure_callbacks() -> list:
    """Each task's, after its last try: the alert, to the log and the configured notifier."""
    return [on_task_failure]
