"""The metrics are named the Prometheus way (base units, `_total` on counters and only there)
and labelled by engines, database, schema and table, never a URL, host, user or password;
the Prometheus sink exposes each under the name the docs give; a push that fails is logged
with its URL masked, never raised; the Airflow tasks' group names the task instance."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from tests.ports import free_port

from sluice.airflow.push import grouping
from sluice.cli.main import build_parser
from sluice.core import metrics
from sluice.core.prometheus import PrometheusSink, Pusher, _without_credentials, exported
from sluice.core.schema import Table
from sluice.core.urls import DbUrl

ROOT = Path(__file__).resolve().parents[2]
UNITS = ("_seconds", "_bytes", "_total", "_ranges", "_failed")
ALLOWED_LABELS = {"source_engine", "target_engine", "database", "schema", "table", "fault"}


@pytest.mark.parametrize("metric", list(metrics.METRICS.values()), ids=lambda m: m.name)
def test_names_are_prometheus_names_in_base_units(metric):
    full = metrics.PREFIX + metric.name
    assert re.fullmatch(r"sluice_[a-z][a-z0-9_]*[a-z0-9]", full)
    assert metric.kind in ("counter", "histogram", "gauge")
    assert (metric.kind == "counter") == full.endswith("_total")  # counters, and only they
    assert full.endswith(UNITS), f"{full}: no base unit (seconds, bytes) nor a count"
    assert not re.search(r"_(ms|millis|milliseconds|minutes|hours|kb|mb|mib|gb)(_|$)", full)
    assert set(metric.labels) <= ALLOWED_LABELS
    assert metric.help.endswith(".")


def test_the_issue_lists_every_metric_and_the_docs_name_each():
    wanted = {"rows_copied_total", "bytes_copied_total", "chunk_duration_seconds",
              "retries_total", "verify_mismatched_ranges", "quality_checks_failed",
              "replica_last_success_timestamp_seconds", "memory_buffered_bytes",
              "cdc_lag_seconds", "cdc_lag_bytes", "cdc_changes_applied_total"}  # fmt: skip
    assert wanted <= set(metrics.METRICS)
    doc = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    for name in metrics.METRICS:
        assert f"`sluice_{name}`" in doc, name


def test_labels_name_the_table_never_the_url_or_its_secrets():
    source = DbUrl.parse("mssql+pymssql://sa:Sup3r-Secret-pw@sqlhost:1433/StackOverflow")
    target = DbUrl.parse("postgresql://loader:An0ther-Secret@pghost:5432/replica")
    labels = metrics.table_labels(source, target, Table("Posts", (), schema="dbo"))
    assert labels == {"source_engine": "mssql", "target_engine": "postgresql",
                      "database": "replica", "schema": "dbo", "table": "Posts"}  # fmt: skip
    assert metrics.run_labels(source, target) == {"source_engine": "mssql",
                                                  "target_engine": "postgresql",
                                                  "database": "replica"}  # fmt: skip
    shown = " ".join(labels.values())
    for secret in ("Secret", "sa", "loader", "sqlhost", "pghost", "://", "1433"):
        assert secret not in shown.split() and secret not in shown.replace("replica", "")


def test_the_sink_exposes_every_metric_by_its_full_name():
    sink = PrometheusSink()
    table = metrics.labels_for("postgresql", "mariadb", "shop", "", "orders")
    with metrics.installed(sink):
        metrics.chunk_copied(table, 1000, 65536, 1.5)
        metrics.count("retries_total", 1, {**table, "fault": "deadlock"})
        for name in ("verify_mismatched_ranges", "quality_checks_failed", "memory_buffered_bytes",
                     "cdc_lag_seconds", "cdc_lag_bytes"):  # fmt: skip
            metrics.gauge(name, 3, table)
        metrics.count("cdc_changes_applied_total", 7, table)
        metrics.succeeded(table, 1_700_000_000.0)
    text = generate_latest(sink.registry).decode()
    for name, m in metrics.METRICS.items():
        assert f"# TYPE sluice_{name} {m.kind}" in text
    assert 'sluice_rows_copied_total{database="shop",schema="",source_engine="postgresql",' \
           'table="orders",target_engine="mariadb"} 1000.0' in text  # fmt: skip
    assert 'fault="deadlock"' in text
    assert 'sluice_memory_buffered_bytes{database="shop",source_engine="postgresql",' \
           'target_engine="mariadb"} 3.0' in text  # fmt: skip
    assert "sluice_replica_last_success_timestamp_seconds{" in text and "1.7e+09" in text
    metrics.gauge("cdc_lag_seconds", 9, table)  # uninstalled: the registry is the run's
    assert "} 9.0" not in generate_latest(sink.registry).decode()


def test_a_failing_sink_never_fails_the_engine(caplog):
    class Broken:
        def record(self, metric, value, labels):
            raise RuntimeError("down")

    with metrics.installed(Broken()), caplog.at_level(logging.WARNING):
        metrics.count("rows_copied_total", 1, {})
    assert "could not record sluice_rows_copied_total" in caplog.text


def test_a_failed_push_is_logged_masked_never_raised(caplog):
    port = free_port()  # closed again: nobody listens there
    pusher = Pusher(f"http://ops:gateway-pw-1234@127.0.0.1:{port}", PrometheusSink().registry,
                    "copy", {"run": "r1"}, timeout=2)  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert pusher.push() is False
    assert "could not push to the Pushgateway http://ops:***@127.0.0.1" in caplog.text
    assert "gateway-pw-1234" not in caplog.text and pusher.failures == 1


def test_credentials_go_as_basic_auth_not_in_the_url():
    assert _without_credentials("gw.example:9091") == ("http://gw.example:9091", None)
    url, auth = _without_credentials("https://ops:p%40ss@gw.example:9091/base")
    assert url == "https://gw.example:9091/base" and auth == ("ops", "p@ss")


def test_neither_flag_installs_nothing():
    with exported("copy") as sink:
        assert sink is None and not metrics.active()


def test_copy_verify_and_sync_take_the_flags():
    parser = build_parser()
    for command in ("copy", "verify", "sync"):
        args = parser.parse_args([command, "--metrics-push", "http://gw:9091",
                                  "--metrics-port", "9464"])  # fmt: skip
        assert (args.metrics_push, args.metrics_port, args.metrics_host) == (
            "http://gw:9091", 9464, "127.0.0.1")  # fmt: skip
    with pytest.raises(SystemExit):
        parser.parse_args(["copy", "--metrics-port", "70000"])


def test_airflow_tasks_group_by_dag_run_and_task(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "replicate_stackoverflow")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__2026-01-01T00:00:00+00:00")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "copy_chunk")
    job, group = grouping("copy_one_chunk")
    assert job == "replicate_stackoverflow"
    assert group == {"run": "manual__2026-01-01T00:00:00+00:00", "task": "copy_chunk"}
    for name in ("AIRFLOW_CTX_DAG_ID", "AIRFLOW_CTX_DAG_RUN_ID", "AIRFLOW_CTX_TASK_ID"):
        monkeypatch.delenv(name)
    job, group = grouping("publish")  # outside Airflow: the callable and this process
    assert job == "sluice_publish" and group["task"] == "publish" and group["run"]
