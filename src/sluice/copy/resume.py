"""`sluice copy --resume`: continue an interrupted copy from the chunks it committed (ADR 0018).

Every copy records its plan in the target's chunk ledger (`sluice.state.ledger`) before the
first chunk, each chunk in the transaction that commits its rows, and each publish in its
swap's transaction. A resumed run re-plans the source, refuses when the plan differs from the
recorded one (source, target, tables, their definitions, key ranges, value policies), then
runs the recorded chunk bounds, skipping the chunks committed and the tables swapped in.
A staging table that is gone (dropped, or swapped in on MySQL just before a crash) is copied
again whole. Rows changed in the source between the runs are not seen: resume is for a static
source or a snapshot, and `sluice verify` is the proof.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sluice.copy.plan import Chunk, Plan, TablePlan
from sluice.copy.publish import prepare, target_fault
from sluice.copy.staging import live_table, staging_table
from sluice.copy.stalls import watched
from sluice.core.errors import ConfigError, SluiceError
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect
from sluice.state import ledger

log = logging.getLogger(__name__)

AGAIN = "run `sluice copy` without --resume to copy every table again"


@dataclass
class Resumption:
    """What a run continues: the plan to run (the recorded chunk bounds where it continues),
    the chunks committed and the tables published by the earlier run."""

    plan: Plan
    run: str  # the plan's fingerprint, recorded with every ledger row
    done: dict[str, dict[int, int]] = field(default_factory=dict)  # table -> {chunk: rows}
    published: dict[str, int] = field(default_factory=dict)  # table -> rows
    note: str = ""  # one line for a person when --resume was asked

    @property
    def kept_rows(self) -> int:
        return sum(sum(c.values()) for c in self.done.values()) + sum(self.published.values())

    @property
    def resumed(self) -> bool:
        return bool(self.done or self.published)


def table_fingerprint(tp: TablePlan) -> str:
    """What must not change for committed chunks to stay valid: the table's definition (its
    row filter too), how each column maps, the path its bytes take, where and under which
    names it lands, its masked and left-out columns, and its key range."""
    kept = {"table": asdict(tp.table), "columns": [asdict(c) for c in tp.columns],
            "raw_format": tp.raw_format, "passthrough": tp.passthrough,
            "target_schema": tp.target_schema, "key_range": tp.key_range,
            "names": tp.names and asdict(tp.names), "masks": tp.masks,
            "excluded": tp.excluded}  # fmt: skip
    return _digest(kept)


def run_fingerprint(plan: Plan, policy: str) -> str:
    """The whole plan's: both ends, every table, the keys and types made, the value policy."""
    kept = {"source": plan.source, "target": plan.target, "policy": policy,
            "engines": [plan.source_engine, plan.target_engine],
            "tables": [[tp.name, table_fingerprint(tp)] for tp in plan.tables],
            "foreign_keys": [asdict(fk) for fk in plan.foreign_keys],
            "native_types": [asdict(n) for n in plan.native_types]}  # fmt: skip
    return _digest(kept)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _chunks_json(tp: TablePlan) -> str:
    return json.dumps({"key_range": tp.key_range,
                       "chunks": [[c.index, c.lo, c.hi] for c in tp.chunks]})  # fmt: skip


def _recorded(tp: TablePlan, text: str) -> tuple[tuple[Chunk, ...], Any]:
    data = json.loads(text)
    chunks = tuple(Chunk(tp.name, i, lo, hi) for i, lo, hi in data["chunks"])
    return chunks, data.get("key_range")


def begin(plan: Plan, target: DbUrl, resume: bool, policy: str) -> Resumption:
    """Prepare the run: with `resume`, keep what the ledger says an earlier run of the same
    plan committed (refusing a plan that changed); make fresh staging tables for the rest
    and record their plan rows (cleared first: no old row outlives its staging table)."""
    dst = get_dialect(target.engine)
    run = run_fingerprint(plan, policy)
    out = Resumption(plan, run)
    try:
        dst.ensure_database(target)
        conn = dst.connect(target)
        try:
            ledger.ensure(dst, conn)
            entries = ledger.read(dst, conn) if resume else {}
            ours = {tp.name: entries[tp.name] for tp in plan.tables if tp.name in entries}
            if any(e.committed or e.published_rows is not None for e in ours.values()):
                _check(plan, run, ours, entries)
                out = _kept(dst, conn, plan, run, ours)
            fresh = [tp.name for tp in out.plan.tables
                     if tp.name not in out.done and tp.name not in out.published]  # fmt: skip
            ledger.forget(dst, conn, fresh)
            conn.commit()
        finally:
            with contextlib.suppress(Exception):
                conn.close()
        if fresh:
            prepare(out.plan, target, fresh)
            _record(dst, target, run, [out.plan.table(n) for n in fresh])
    except SluiceError:
        raise
    except Exception as exc:
        raise target_fault(dst, exc, f"preparing {target}", target) from None
    if resume:
        out.note = _note(out)
    return out


def _check(plan: Plan, run: str, ours: dict, entries: dict) -> None:
    """Refuse, in one line naming what changed, a plan the recorded chunks do not fit."""
    if all(e.run == run for e in ours.values()) and len(ours) == len(plan.tables):
        gone = [n for n, e in entries.items() if e.run == run and n not in ours]
        if not gone:
            return
    runs = {e.run for e in ours.values()}
    why = []
    for tp in plan.tables:
        e = ours.get(tp.name)
        if e is None:
            why.append(f"{tp.name} is new")
            continue
        if e.fingerprint == table_fingerprint(tp):
            continue
        _, was = _recorded(tp, e.chunks)
        now = list(tp.key_range) if tp.key_range else None
        if was != now and _same_but_range(tp, e, was):
            why.append(f"{tp.name}: its key range moved from {_span(was)} to {_span(now)}")
        else:
            why.append(f"{tp.name}: its columns, types or key changed")
    why += [f"{n} is gone" for n, e in entries.items() if e.run in runs and n not in ours]
    detail = "; ".join(why[:6]) + (f" and {len(why) - 6} more" if len(why) > 6 else "")
    detail = detail or "the source, target or value options (--nul, --zero-dates) differ"
    raise ConfigError(f"cannot resume: the source changed since the interrupted copy ({detail}); "
                      f"{AGAIN}")  # fmt: skip


def _same_but_range(tp: TablePlan, e, was) -> bool:
    return table_fingerprint(replace(tp, key_range=tuple(was) if was else None)) == e.fingerprint


def _span(r) -> str:
    return "none" if not r else f"{r[0]}..{r[1]}"


def _kept(dst, conn, plan: Plan, run: str, ours: dict) -> Resumption:
    """The recorded chunk bounds for every table; the committed chunks of each staging table
    still there, and the tables an earlier run swapped in (still live)."""
    out = Resumption(plan, run)
    tables = []
    for tp in plan.tables:
        chunks, _ = _recorded(tp, ours[tp.name].chunks)
        tp = replace(tp, chunks=chunks)
        tables.append(tp)
        e = ours[tp.name]
        if e.published_rows is not None and dst.table_exists(conn, live_table(dst, tp.target)):
            out.published[tp.name] = int(e.published_rows)
        elif e.committed and dst.table_exists(conn, staging_table(dst, tp.target)):
            out.done[tp.name] = dict(e.committed)
        elif e.committed or e.published_rows is not None:
            log.warning(
                "%s: its %s is gone; copying it again whole",
                tp.name,
                "live table" if e.published_rows is not None else "staging table",
            )
    conn.rollback()
    out.plan = replace(plan, tables=tuple(tables))
    return out


def _record(dst, target: DbUrl, run: str, tables: list[TablePlan]) -> None:
    conn = dst.connect(target)
    try:
        rows = [(tp.name, table_fingerprint(tp), _chunks_json(tp)) for tp in tables]
        ledger.record_tables(dst, conn, run, rows)
        conn.commit()
    finally:
        conn.close()


def _note(r: Resumption) -> str:
    if not r.resumed:
        return "nothing to resume: copying every table"
    chunks = sum(len(c) for c in r.done.values())
    return (
        f"resuming: {r.kept_rows:,} row(s) kept from the interrupted copy ({chunks} "
        f"chunk(s) committed, {len(r.published)} table(s) already published)"
    )


def chunk_recorder(target: DbUrl, run: str) -> Callable[[Any, Chunk, int, bool], None]:
    """The ledger write a chunk makes before its commit (`TransferOptions.ledger`)."""
    dst = get_dialect(target.engine)

    def record(conn: Any, chunk: Chunk, rows: int, again: bool) -> None:
        ledger.record_chunk(dst, conn, run, chunk.table, chunk.index, rows, again)

    return record


def publish_recorder(target: DbUrl, run: str, tp: TablePlan) -> Callable[[Any, int], None]:
    """The ledger write a publish makes in its swap's transaction."""
    dst = get_dialect(target.engine)
    table = (tp.name, table_fingerprint(tp), _chunks_json(tp))
    return lambda conn, rows: ledger.mark_published(dst, conn, run, table, rows)


def complete(names: list[str], target: DbUrl) -> None:
    """A copy done: its ledger rows describe nothing any more (best effort: left behind, they
    say every table is published, which a later --resume of the same plan keeps)."""
    dst = get_dialect(target.engine)
    try:
        conn = dst.connect(target)
        try:
            with watched(dst, target, conn, "target", "finish"):  # a stall ends (issue 23)
                ledger.forget(dst, conn, names)
                conn.commit()
        finally:
            conn.close()
    except Exception as exc:
        log.warning("could not clear the copy's ledger rows: %s", redact_all(str(exc)))
