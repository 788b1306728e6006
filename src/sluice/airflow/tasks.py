"""Task callables for the replication DAGs: each opens its connections inside the task,
calls one library stage, and returns a small JSON-able summary. XComs carry plan data and
these summaries only, never rows and never secrets (plans hold masked URLs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sluice.airflow.connections import url_for
from sluice.buffer import ByteBudget
from sluice.copy import DEFAULT_MEMORY_CAP, check_lossy
from sluice.datasets.loader import count_rows
from sluice.errors import DataError
from sluice.finish import finish
from sluice.memory import tune_allocator
from sluice.plan import Chunk, Plan, build_plan
from sluice.publish import prepare, publish_table
from sluice.transfer import TransferOptions, copy_chunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoints:
    """Connection ids of one DAG; `target_database` overrides the target connection's schema."""

    source: str
    target: str
    target_database: str | None = None

    def source_url(self):
        return url_for(self.source)

    def target_url(self):
        return url_for(self.target, self.target_database)


def plan(ends: Endpoints, tables: list[str] | None, chunk_rows: int, allow_lossy: bool) -> dict:
    p = build_plan(
        ends.source_url(), ends.target_url(), tables=tables or None, chunk_rows=chunk_rows
    )
    check_lossy(p, allow_lossy)
    log.info("plan: %d tables, %d chunks, order %s", len(p.tables), len(p.chunks),
             ", ".join(t.name for t in p.tables))  # fmt: skip
    return p.to_dict()


def chunk_list(plan_data: dict) -> list[dict]:
    """The mapped copy tasks' inputs: one small dict per key range."""
    return [
        {"table": c.table, "index": c.index, "lo": c.lo, "hi": c.hi}
        for c in Plan.from_dict(plan_data).chunks
    ]


def table_list(plan_data: dict) -> list[str]:
    return [t["table"]["name"] for t in plan_data["tables"]]


def prepare_target(ends: Endpoints, plan_data: dict) -> None:
    prepare(Plan.from_dict(plan_data), ends.target_url())


def copy_one_chunk(ends: Endpoints, plan_data: dict, chunk: dict, memory_cap: int) -> dict:
    """One key range, idempotent: a retried task deletes what its earlier try left."""
    tune_allocator()
    p = Plan.from_dict(plan_data)
    c = Chunk(**chunk)
    tp = p.table(c.table)
    cap = memory_cap or DEFAULT_MEMORY_CAP
    options, channel_bytes = TransferOptions.for_budget(cap, 1, not tp.passthrough)
    result = copy_chunk(tp, c, ends.source_url(), ends.target_url(),
                        ByteBudget(channel_bytes), options)  # fmt: skip
    log.info("%s: %s rows, %.1f MB in %.1fs (%d tries)", c.label, f"{result.rows:,}",
             result.bytes / 1e6, result.seconds, result.attempts)  # fmt: skip
    return {"table": c.table, "index": c.index, "rows": result.rows, "bytes": result.bytes}


def publish(ends: Endpoints, plan_data: dict, table: str) -> dict:
    result = publish_table(Plan.from_dict(plan_data), table, ends.target_url())
    return {"table": result.table, "rows": result.rows}


def finish_target(ends: Endpoints, plan_data: dict) -> dict:
    result = finish(Plan.from_dict(plan_data), ends.target_url())
    return {"identities": result.identities, "orphans": result.orphans}


def verify_counts(ends: Endpoints, plan_data: dict) -> dict:
    """Row counts per table, source against target; raises when any differs."""
    p = Plan.from_dict(plan_data)
    tables = [t.table for t in p.tables]
    src = count_rows(ends.source_url(), tables)
    dst = count_rows(ends.target_url(), tables)
    report: dict[str, Any] = {
        name: {"source": src[name], "target": dst[name], "match": src[name] == dst[name]}
        for name in src
    }
    for name, r in report.items():
        log.info("verify %-12s source %12s  target %12s  %s", name, r["source"], r["target"],
                 "ok" if r["match"] else "MISMATCH")  # fmt: skip
    bad = [n for n, r in report.items() if not r["match"]]
    if bad:
        raise DataError(bad[0], None, None, f"row counts differ for {', '.join(bad)}")
    return report
