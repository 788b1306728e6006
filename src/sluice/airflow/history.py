"""What the operator's view reads: each DAG run's figures beside its verification report, and
an index of the recent runs per DAG, both on the report store (`sluice.airflow.reports`).

The verify task writes them (it is the last task of every run, on whichever worker): the
run's section (`run_section`: when the run started and ended, per table the rows moved and
the rows per second of its copy or sync) goes into the report, and a one-line summary of the
run into `<dag_id>/runs.json`, newest last, the oldest dropped past `KEEP` runs. One verify
task at a time writes a DAG's index (the DAGs run with max_active_runs=1). The Replication
page (`sluice.airflow.ui`) and the freshness alert read the index only: one small file per
DAG, whatever the number of reports kept beside it.

A replica's freshness is the age of its newest verified run's start: the source was read
after that instant, so the replica holds at least everything committed before it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sluice.airflow.reports import ReportRoot, run_file
from sluice.core.errors import ConfigError
from sluice.verify.report import verdict

INDEX = "runs.json"
KEEP = 200  # runs kept in a DAG's index
FRESHNESS_VARIABLE = "SLUICE_FRESHNESS_MAX_MINUTES"  # a replica older than this is alerted


def _stamp(value: Any) -> str | None:
    """An ISO 8601 UTC instant from a datetime, an epoch or a string already ISO."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    return str(value)


def parse_stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _rate(rows: int, seconds: float) -> float | None:
    return round(rows / seconds, 1) if seconds > 0 else None


def copied_tables(chunks: Iterable[Mapping[str, Any]]) -> dict[str, dict]:
    """Per table, from the copy tasks' results (`tasks.copy_one_chunk`): rows, and the
    seconds from its first chunk's start to its last one's end (chunks run side by side)."""
    spans: dict[str, list] = {}
    for c in chunks:
        if not c:
            continue
        s = spans.setdefault(c["table"], [0, None, None])
        s[0] += int(c.get("rows") or 0)
        if c.get("started") is not None and c.get("ended") is not None:
            s[1] = c["started"] if s[1] is None else min(s[1], c["started"])
            s[2] = c["ended"] if s[2] is None else max(s[2], c["ended"])
    out = {}
    for table, (rows, lo, hi) in spans.items():
        seconds = round(hi - lo, 3) if lo is not None else 0.0
        out[table] = {"rows": rows, "seconds": seconds, "rows_per_second": _rate(rows, seconds)}
    return out


def synced_tables(figures: Mapping[str, Mapping[str, Any]], seconds: float) -> dict[str, dict]:
    """Per table, from the sync task's figures: rows read from the source (by change capture:
    changes applied), over the sync's whole time (its tables go one after the other)."""
    out = {}
    for table, f in figures.items():
        moved = sum(int(f.get(k) or 0) for k in ("inserted", "updated", "deleted"))
        rows = int(f["read"]) if f.get("read") is not None else moved
        out[table] = {"rows": rows, "seconds": round(seconds, 3),
                      "rows_per_second": _rate(rows, seconds)}  # fmt: skip
    return out


def run_section(dag_id: str, run_id: str, kind: str, started: Any, ended: Any,
                tables: Mapping[str, dict]) -> dict:  # fmt: skip
    """The report's `run`: which run, what it did ("copy" or "sync"), when, and its tables'
    figures (`copied_tables` / `synced_tables`)."""
    start, end = _stamp(started), _stamp(ended)
    a, b = parse_stamp(start), parse_stamp(end)
    seconds = round((b - a).total_seconds(), 3) if a and b else None
    return {"dag_id": dag_id, "run_id": run_id, "kind": kind, "started": start,
            "ended": end, "seconds": seconds, "tables": dict(tables)}  # fmt: skip


def summary(report: Mapping[str, Any], run_id: str) -> dict:
    """A run's line in the index: its verdict, and per table what the page shows."""
    run = report.get("run") or {}
    moved = run.get("tables") or {}
    tables = {}
    for t in report.get("tables", []):
        m = moved.get(t["table"]) or {}
        checks = t.get("checks") or []
        tables[t["table"]] = {
            "source_rows": t.get("source_rows"), "target_rows": t.get("target_rows"),
            "ranges": t.get("ranges"), "matching_ranges": t.get("matching_ranges"),
            "checks_passed": sum(1 for c in checks if c.get("passed")),
            "checks_failed": sum(1 for c in checks if not c.get("passed")),
            "ok": t.get("ok"), "verdict": verdict(t), "rows_moved": m.get("rows"),
            "rows_per_second": m.get("rows_per_second"),
        }  # fmt: skip
    return {
        "run_id": run_id, "file": run_file(run_id), "kind": run.get("kind"),
        "started": run.get("started") or report.get("started"), "ended": run.get("ended"),
        "seconds": run.get("seconds"), "ok": bool(report.get("ok")),
        "target": report.get("target"), "tables": tables,
    }  # fmt: skip


def read_index(root: ReportRoot, dag_id: str) -> list[dict]:
    """The DAG's recent runs, newest last; none when it has no index yet."""
    try:
        text = root.path(dag_id, INDEX).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    runs = json.loads(text)
    return runs if isinstance(runs, list) else []


def record_run(root: ReportRoot, dag_id: str, report: Mapping[str, Any], run_id: str) -> None:
    """Add (or, for a run verified again, replace) the run's line in the DAG's index."""
    line = summary(report, run_id)
    runs = [r for r in read_index(root, dag_id) if r.get("run_id") != run_id]
    runs = (runs + [line])[-KEEP:]
    path = root.path(dag_id, INDEX)
    path.write_text(json.dumps(runs, indent=1, default=str), encoding="utf-8")


def dag_ids(root: ReportRoot) -> list[str]:
    """The DAGs with an index under the root."""
    try:
        folders = [p for p in root.path().iterdir() if p.is_dir()]
    except FileNotFoundError:
        return []
    return sorted(p.name for p in folders if (p / INDEX).exists())


@dataclass(frozen=True)
class Freshness:
    """How old a target's replica is: its newest verified run (any DAG writing to it)."""

    target: str
    dag_id: str | None
    run_id: str | None
    as_of: datetime | None  # the start of that run; None: never verified
    age_seconds: float | None


def freshness(indexes: Mapping[str, list[dict]], now: datetime | None = None) -> list[Freshness]:
    """Per target named in `indexes` (dag_id -> runs), its newest verified run's age."""
    now = now or datetime.now(timezone.utc)
    best: dict[str, tuple] = {}
    for dag_id, runs in indexes.items():
        for r in runs:
            target = r.get("target") or "?"
            best.setdefault(target, (None, None, None))
            when = parse_stamp(r.get("started"))
            if r.get("ok") and when and (best[target][2] is None or when > best[target][2]):
                best[target] = (dag_id, r.get("run_id"), when)
    return [
        Freshness(target, dag_id, run_id, when,
                  None if when is None else round((now - when).total_seconds(), 1))
        for target, (dag_id, run_id, when) in sorted(best.items())
    ]  # fmt: skip


def freshness_limit(environ: Mapping[str, str] = os.environ) -> float | None:
    """The age, in seconds, past which a replica is stale (`$SLUICE_FRESHNESS_MAX_MINUTES`);
    None when unset. A value that is not a positive number is a ConfigError naming it."""
    given = (environ.get(FRESHNESS_VARIABLE) or "").strip()
    if not given:
        return None
    try:
        minutes = float(given)
    except ValueError:
        minutes = -1.0
    if not minutes > 0 or minutes == float("inf"):
        raise ConfigError(f"{FRESHNESS_VARIABLE}={given!r}: give the age in minutes, e.g. 90")
    return minutes * 60
