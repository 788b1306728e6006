"""The failure callback's summary names DAG, task, map index and try, and masks passwords; the
notifier is the tasks' callback, not the DAG's."""

from __future__ import annotations

from types import SimpleNamespace

from sluice.airflow.alerts import on_task_failure
from sluice.airflow.callbacks import (
    failure_callbacks,
    log_failure,
    summarize,
    task_failure_callbacks,
)
from sluice.core.urls import DbUrl


def test_summary_names_the_task_and_masks_secrets(monkeypatch):
    DbUrl.parse("postgresql://u:Hunter2-secret@db/x")  # the process now knows this password
    ti = SimpleNamespace(dag_id="replicate_x", task_id="copy", map_index=7, try_number=2)
    exc = RuntimeError("cannot connect to postgresql://u:Hunter2-secret@db/x: refused")
    text = summarize({"ti": ti, "exception": exc})
    assert "replicate_x.copy[7] try 2" in text and "RuntimeError" in text
    assert "Hunter2-secret" not in text and "***" in text
    monkeypatch.delenv("SLUICE_FAILURE_NOTIFIER", raising=False)
    assert len(failure_callbacks()) == 1


def test_the_notifier_is_on_the_tasks_only(monkeypatch):
    """One failure, one message: the DAG's callback logs; each task's alerts (it alone knows
    its exception and chunk). Nothing is built at parse time, even a notifier named wrong."""
    monkeypatch.setenv("SLUICE_FAILURE_NOTIFIER", "no_such_module:Nothing")
    assert failure_callbacks() == [log_failure]
    assert task_failure_callbacks() == [on_task_failure]
