"""Task callables for change capture (docs/cdc.md): the full DAG's plan task starts capture
when its pipeline chose it, and the incremental twin then applies the source's log instead
of watermarks. Each opens its connections inside the task; XComs get counts, positions and
lag, never rows or URLs."""

from __future__ import annotations

import logging
from dataclasses import replace

from sluice.airflow.metrics import sent_to_airflow
from sluice.airflow.push import pushed
from sluice.airflow.tasks import Endpoints, failing_at_once
from sluice.capture import capture_options, start_capture, sync_changes
from sluice.copy import DEFAULT_MEMORY_CAP, CopyOptions
from sluice.state.positions import utcnow
from sluice.sync import SyncOptions

log = logging.getLogger(__name__)


@sent_to_airflow()
def start(ends: Endpoints, tables: list[str] | None, options: CopyOptions) -> dict:
    """Start capture of the tables the copy will make, before it reads its first chunk; a
    retry of the plan task starts it afresh (nothing was copied yet)."""
    selected = replace(capture_options(options), tables=tables or None)
    started = start_capture(ends.source_url(), ends.target_url(), selected)
    log.info("change capture %s started at %s for %d table(s)", started.name, started.position,
             len(started.tables))  # fmt: skip
    return {"capture": started.name, "position": started.position}


@pushed
@sent_to_airflow()
def sync(ends: Endpoints, tables: list[str] | None, memory_cap: int, full_dag: str,
         options: SyncOptions) -> dict:  # fmt: skip
    """The incremental twin's step with change capture: the log since the replica's
    position, applied batch by batch; the lag after it logged and returned (for the Asset
    events). What another try cannot fix fails at once, naming the full DAG."""
    options = replace(options, tables=tables or None, memory_cap=memory_cap or DEFAULT_MEMORY_CAP)
    advice = f" (in Airflow: run the full DAG {full_dag!r}, which starts capture)"
    source, target = ends.source_url(), ends.target_url()
    with failing_at_once("copy", advice):
        result = sync_changes(source, target, options)
    from sluice.airflow import lineage  # imports Airflow: only inside a task

    lineage.record(lambda: lineage.capture_lineage(result, source, target))
    figures = {}
    for name, a in result.tables.items():
        figures[name] = {"inserted": a.inserted, "updated": a.updated, "deleted": a.deleted,
                         "truncated": a.truncated}  # fmt: skip
        log.info("%s: inserted %s, updated %s, deleted %s (change capture)", name,
                 f"{a.inserted:,}", f"{a.updated:,}", f"{a.deleted:,}")  # fmt: skip
    status = result.status
    lag = {"capture": result.name, "before": result.before, "after": result.after,
           "lag_bytes": status.lag_bytes if status else None,
           "lag_seconds": round(result.lag_seconds or 0.0, 1),
           "at": utcnow().isoformat(timespec="seconds")}  # fmt: skip
    log.info("change capture %s: %s change(s) in %s transaction(s), %s -> %s; lag %.1f s "
             "(every change committed before then is applied), the source %s bytes ahead now",
             result.name, f"{result.changes:,}", f"{result.transactions:,}", result.before,
             result.after, lag["lag_seconds"],
             f"{lag['lag_bytes']:,}" if lag["lag_bytes"] is not None else "?")  # fmt: skip
    return {"tables": list(figures), "figures": figures, "moved": result.moved,
            "seconds": round(result.seconds, 3), "capture": lag}  # fmt: skip
