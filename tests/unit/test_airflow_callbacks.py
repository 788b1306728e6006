"""The failure callback's summary names DAG, task, map index and try, and masks passwords."""

from __future__ import annotations

from types import SimpleNamespace

from sluice.airflow.callbacks import failure_callbacks, summarize
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


def test_a_configured_notifier_is_added(monkeypatch):
    monkeypatch.setenv("SLUICE_FAILURE_NOTIFIER", "types:SimpleNamespace")
    monkeypatch.setenv("SLUICE_FAILURE_NOTIFIER_KWARGS", '{"channel": "#data"}')
    callbacks = failure_callbacks()
    assert len(callbacks) == 2 and callbacks[1].channel == "#data"
