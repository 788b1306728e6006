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
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sluice.core.schema import Table
    from sluice.core.urls import DbUrl

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
            "How far the replica is behind the source, change capture: during a run the age "
            "of the newest commit applied, after it the time since the position caught up to.",
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


def active() -> bool:
    """Whether any sink listens: lets a caller skip working out a figure nobody reads."""
    return bool(_sinks)


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


def run_labels(source: DbUrl | str, target: DbUrl) -> dict[str, str]:
    """The labels of a run's figures (no table): engines and the target's database.
    `source` is a URL or an engine's name (a plan keeps only that)."""
    engine = source if isinstance(source, str) else source.engine
    return {"source_engine": engine, "target_engine": target.engine,
            "database": target.database or ""}  # fmt: skip


def table_labels(source: DbUrl | str, target: DbUrl, table: Table) -> dict[str, str]:
    """The labels of a target table's figures: `table` as it lands (`TablePlan.target`); an
    empty schema is the target's default one."""
    engine = source if isinstance(source, str) else source.engine
    return labels_for(engine, target.engine, target.database, table.schema, table.name)


def chunk_copied(labels: Mapping[str, str], rows: int, nbytes: int, seconds: float) -> None:
    """A chunk (or a sync's batch of changed rows) committed on the target."""
    count("rows_copied_total", rows, labels)
    count("bytes_copied_total", nbytes, labels)
    observe("chunk_duration_seconds", seconds, labels)


def succeeded(labels: Mapping[str, str], at: float | None = None) -> None:
    """The table's replica is good as of now: copied and published, synced, or verified equal
    (`replica_last_success_timestamp_seconds`, the freshness a dashboard alerts on)."""
    gauge("replica_last_success_timestamp_seconds", time.time() if at is None else at, labels)
