"""The alerts' text: a failed copy chunk names DAG, run, task with map index, table, key
range and error; a publish its table, verify its tables; stale replicas each with DAG, run
and age. Passwords never appear. The configured notifier gets sluice's text as template
fields it was not given, rendered by Airflow's own notifier code."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from sluice.airflow import alerts, history
from sluice.core.errors import ConfigError
from sluice.core.urls import DbUrl

SECRET = "Alert-Pw-4711-secret"


def context(task_id: str, map_index: int, op_kwargs: dict, error: Exception) -> dict:
    ti = SimpleNamespace(dag_id="replicate_x", task_id=task_id, map_index=map_index,
                         try_number=1, run_id="manual__1", log_url="http://af/log")  # fmt: skip
    return {"ti": ti, "task": SimpleNamespace(op_kwargs=op_kwargs), "exception": error}


def test_a_failed_chunk_names_dag_task_table_range_and_error():
    DbUrl.parse(f"postgresql://u:{SECRET}@db/x")  # the process now knows this password
    error = RuntimeError(f"table 'Users', key 700: refused by postgresql://u:{SECRET}@db/x")
    chunk = {"table": "Users", "index": 2, "lo": 600, "hi": None}
    alert = alerts.failure_alert(context("copy", 5, {"chunk": chunk, "plan_data": {}}, error))
    assert alert.subject == "sluice: replicate_x.copy[5] failed: Users (600, +inf]"
    assert alert.lines[:5] == (
        "DAG: replicate_x",
        "Run: manual__1",
        "Task: copy[5], try 1",
        "Table: Users",
        "Key range: (600, +inf] (chunk 2 of the table)",
    )
    assert alert.lines[5].startswith("Error: RuntimeError: table 'Users', key 700: refused")
    assert SECRET not in alert.text + alert.subject + alert.html and "***" in alert.text
    assert alert.html.startswith("<pre>") and "&#x27;Users&#x27;" in alert.html


def test_publish_and_verify_name_their_tables():
    alert = alerts.failure_alert(context("publish", 1, {"table": "Posts"}, ValueError("x")))
    assert alert.subject.endswith("publish[1] failed: Posts") and "Table: Posts" in alert.lines
    names = {"table_names": ["Posts", "Users"]}
    alert = alerts.failure_alert(context("verify", -1, names, ValueError("differs")))
    assert alert.subject == "sluice: replicate_x.verify failed: Posts, Users"
    assert "Tables: Posts, Users" in alert.lines and "Error: ValueError: differs" in alert.lines


def test_stale_alert_names_target_dag_run_and_age():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    old = (now - timedelta(hours=3, minutes=5)).isoformat()
    indexes = {"rep_a": [{"run_id": "r1", "started": old, "ok": True, "target": "pg/t1"}],
               "rep_b": [{"run_id": "r2", "started": now.isoformat(), "ok": False,
                          "target": "pg/t2"}]}  # fmt: skip
    found = history.freshness(indexes, now)
    alert = alerts.stale_alert(found, 90 * 60)
    assert alert.subject == "sluice: 2 stale replica(s): pg/t1, pg/t2"
    assert "more than 90 min ago" in alert.lines[0]
    assert alert.lines[1] == ("- pg/t1: 3 h 05 min old; DAG rep_a, last verified run r1 "
                              f"(started {old})")  # fmt: skip
    assert alert.lines[2] == "- pg/t2: no verified run in any DAG's index"


def test_the_notifier_gets_the_text_as_its_templates(tmp_path):
    pytest.importorskip("airflow.providers.smtp")
    env = {
        "SLUICE_FAILURE_NOTIFIER": "airflow.providers.smtp.notifications.smtp:SmtpNotifier",
        "SLUICE_FAILURE_NOTIFIER_KWARGS": json.dumps(
            {"to": "ops@example.com", "subject": "[etl] {{ ti.task_id }}"}
        ),
    }
    n = alerts.notifier(env)
    assert n.subject == "[etl] {{ ti.task_id }}"  # given: kept
    assert n.html_content == "{{ sluice_alert.html }}"  # left out: sluice's text
    ctx = {"ti": SimpleNamespace(task_id="copy"), "sluice_alert": {"html": "<pre>{{ x }}</pre>"}}
    n.render_template_fields(ctx)
    assert (n.subject, n.html_content) == ("[etl] copy", "<pre>{{ x }}</pre>")  # not re-rendered
    assert alerts.notifier({}) is None
    with pytest.raises(ConfigError, match="SLUICE_FAILURE_NOTIFIER='nope:X'"):
        alerts.notifier({"SLUICE_FAILURE_NOTIFIER": "nope:X"})


def test_no_limit_checks_nothing(tmp_path):
    got = alerts.check_freshness(environ={"SLUICE_REPORT_DIR": str(tmp_path)})
    assert got == {"limit_seconds": None, "targets": 0, "stale": []}
