"""Failure callbacks: a clear summary in the task log, and a notifier when one is configured.

`SLUICE_FAILURE_NOTIFIER` may name a notifier class (`package.module:ClassName`, e.g. an
Airflow provider's SlackNotifier) built with no arguments, or with keyword arguments given as
JSON in `SLUICE_FAILURE_NOTIFIER_KWARGS`. Reading the environment is the only work done at
parse time.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import import_module
from typing import Any

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
    callbacks: list = [log_failure]
    spec = os.environ.get("SLUICE_FAILURE_NOTIFIER")
    if spec:
        module, _, name = spec.partition(":")
        kwargs = json.loads(os.environ.get("SLUICE_FAILURE_NOTIFIER_KWARGS") or "{}")
        callbacks.append(getattr(import_module(module), name)(**kwargs))
    return callbacks
