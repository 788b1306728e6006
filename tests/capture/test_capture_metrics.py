"""Change capture's figures (issue 25, docs/monitoring.md): a `sync --cdc` after `copy --cdc`
records the changes each table received, the lag in seconds and bytes, and each captured
table's last success (the embedded PostgreSQL 18, wal_level=logical)."""

from __future__ import annotations

from sluice.capture import start_capture, sync_changes
from sluice.copy import CopyOptions, copy_database
from sluice.core import metrics
from tests.capture.test_capture_postgres import captured_pair
from tests.independent import execute
from tests.recorded_metrics import Recorded


def test_sync_cdc_records_changes_lag_and_freshness(embedded_logical_pg):
    pair = captured_pair(embedded_logical_pg, embedded_logical_pg, "cdcmetrics")
    src, dst = next(pair)
    try:
        execute(src, "CREATE TABLE items (id int PRIMARY KEY, name text)",
                "CREATE TABLE notes (id int PRIMARY KEY, body text)",
                "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g",
                )  # fmt: skip
        start_capture(src, dst)
        assert copy_database(src, dst, CopyOptions(workers=1)).ok
        execute(src, "INSERT INTO items VALUES (51, 'new'), (52, 'newer')",
                "UPDATE items SET name = 'changed' WHERE id <= 3",
                "DELETE FROM items WHERE id = 10")  # fmt: skip
        sink = Recorded()
        with metrics.installed(sink):
            result = sync_changes(src, dst)
        applied = sink.values("cdc_changes_applied_total")
        assert sum(v for v, _ in applied) == result.moved == 6
        assert {labels["table"] for _, labels in applied} == {"items"}
        assert applied[0][1]["database"] == dst.database
        lags = sink.values("cdc_lag_seconds")
        assert len(lags) >= 2 and all(0 <= v < 600 for v, _ in lags)  # per batch, then the end
        assert set(lags[-1][1]) == {"source_engine", "target_engine", "database"}
        assert [v for v, _ in sink.values("cdc_lag_bytes")] == [result.status.lag_bytes]
        fresh = sink.values("replica_last_success_timestamp_seconds")
        assert {labels["table"] for _, labels in fresh} == {"items", "notes"}
    finally:
        next(pair, None)
