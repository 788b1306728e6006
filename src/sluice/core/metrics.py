"""The figures a monitoring system reads (issue 25, docs/monitoring.md): one list of metrics
named the Prometheus way, and the calls the engine makes to record them.

The engine records through `count`, `observe` and `gauge` with the metric's short name and
its labels; whatever sinks are installed receive them: the Prometheus one (a registry pushed
to a Pushgateway or served on /metrics) and, inside Airflow tasks, Airflow's own metrics
interface (StatsD, DogStatsD, OpenTelemetry). With no sink installed a call costs a lookup.
Labels name engines, databases, schemas and tables; never a URL or a secret (`labels_for`).
A sink that fails is logged and dropped from that call: monitoring never fails a copy."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

PREFIX = "sluice_"
TABLE_LABELS = ("source_engine", "target_engine", "database", "schema", "table")


@dataclass(frozen=True)
class Metric:
    name: str  # without PREFIX
    kind: str  # "counter", "histogram" or "gauge"
    help: str
    labels: tuple[str, ...]


METRICS = {
    m.name: m
    for m in (
        Metric("rows_copied_total", "counter", "Rows written to the target.", TABLE_LABELS),
        Metric("bytes_copied_total", "counter", "Bytes moved to the target.", TABLE_LABELS),
        Metric(
            "chunk_duration_seconds", "histogram", "Time to copy one key-range chunk.", TABLE_LABELS
        ),  # fmt: skip
        Metric(
            "retries_total", "counter", "Tries retried, by fault class.", (*TABLE_LABELS, "fault")
        ),  # fmt: skip
        Metric(
            "verify_mismatched_ranges",
            "gauge",
            "Key ranges that differ, last verify.",
            TABLE_LABELS,
        ),  # fmt: skip
        Metric(
            "quality_checks_failed",
            "gauge",
            "Data-quality checks failing, last verify.",
            TABLE_LABELS,
        ),  # fmt: skip
        Metric(
            "replica_last_success_timestamp_seconds",
            "gauge",
            "When the table last copied, synced or verified equal (Unix time).",
            TABLE_LABELS,
        ),  # fmt: skip
        Metric(
            "memory_buffered_bytes",
            "gauge",
            "Bytes held in the copy's buffers now.",
            ("source_engine", "target_engine", "database"),
        ),  # fmt: skip
        Metric(
            "cdc_lag_seconds",
            "gauge",
            "Age of the newest change applied, change capture.",
            ("source_engine", "target_engine", "database"),
        ),  # fmt: skip
        Metric(
            "cdc_lag_bytes",
            "gauge",
            "Bytes of the source's log not yet applied.",
            ("source_engine", "target_engine", "database"),
        ),  # fmt: skip
        Metric(
            "cdc_changes_applied_total",
            "counter",
            "Changes applied by change capture.",
            TABLE_LABELS,
        ),  # fmt: skip
    )
}


class Sink(Protocol):
    def record(self, metric: Metric, value: float, labels: Mapping[str, str]) -> None: ...


_sinks: list[Sink] = []
_lock = threading.Lock()


@contextmanager
def installed(sink: Sink) -> Iterator[Sink]:
    """`sink` receives every figure recorded while the block runs (any thread)."""
    with _lock:
        _sinks.append(sink)
    try:
        yield sink
    finally:
        with _lock:
            _sinks.remove(sink)


def _record(name: str, value: float, labels: Mapping[str, str]) -> None:
    if not _sinks:
        return
    metric = METRICS[name]
    shown = {k: str(labels.get(k, "")) for k in metric.labels}
    for sink in list(_sinks):
        try:
            sink.record(metric, value, shown)
        except Exception as exc:  # monitoring never fails the work it watches
            log.warning("metrics: %s could not record %s: %s", type(sink).__name__,
                        PREFIX + name, exc)  # fmt: skip


def count(name: str, value: float, labels: Mapping[str, str]) -> None:
    """Add `value` to a counter."""
    _record(name, value, labels)


def observe(name: str, value: float, labels: Mapping[str, str]) -> None:
    """One observation of a histogram."""
    _record(name, value, labels)


def gauge(name: str, value: float, labels: Mapping[str, str]) -> None:
    """Set a gauge."""
    _record(name, value, labels)


def labels_for(source_engine: str, target_engine: str, database: str | None,
               schema: str | None = None, table: str | None = None) -> dict[str, str]:  # fmt: skip
    """The labels of a table's figures: engines, the target's database, schema and table."""
    return {"source_engine": source_engine, "target_engine": target_engine,
            "database": database or "", "schema": schema or "", "table": table or ""}  # fmt: skip
