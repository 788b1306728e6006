"""Rows deleted in the source since the replica was made: found by comparing key ranges.

For a single integer key, both sides summarise each range as (row count, sum of keys), which
the key's index answers; equal summaries skip the range, a differing one is cut into smaller
ranges until it is small enough to compare its keys. A table of a million rows with ten deletes
costs some twenty summaries per side and a few thousand keys fetched, not a million. Other keys
are checked in batches of target keys asked of the source. Memory stays bounded either way.

A source table with a row filter (`--where`) is compared through it, so a target holding only
the filtered rows summarises alike; a key the filtered source lacks is then deleted only when
the source lacks it altogether: a row that left the filter is outside it, and a sync never
deletes a target row outside the filter (docs/selection.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from sluice.copy.plan import INTEGER_KINDS, TablePlan
from sluice.core.schema import Table
from sluice.dialects.base import PARAM, Dialect
from sluice.state import store as sync_state

log = logging.getLogger(__name__)

RANGE_ROWS = 100_000  # keys summarised per first-level range
LEAF_ROWS = 20_000  # at most this many keys compared one by one
SPLIT = 16  # a differing range is cut into this many parts
BATCH = 1_000  # keys asked of the source at once (other key kinds)


def deleted_keys(
    src: Dialect, src_conn: Any, source_table: Table,
    dst: Dialect, dst_conn: Any, target_table: Table,
) -> Iterator[list[tuple]]:  # fmt: skip
    """Batches of keys the target holds and the source does not (inside its row filter)."""
    key = target_table.primary_key
    if len(key) == 1 and target_table.column(key[0]).type.kind in INTEGER_KINDS:
        found = _by_ranges(src, src_conn, source_table, dst, dst_conn, target_table)
    else:
        found = _by_lookup(src, src_conn, source_table, dst, dst_conn, target_table)
    if not source_table.where:
        yield from found
        return
    whole = replace(source_table, where="")
    for batch in found:  # keep the keys the source still holds outside its filter
        for i in range(0, len(batch), BATCH):
            part = batch[i : i + BATCH]
            present = _present(src, src_conn, whole, key, part)
            gone = [k for k in part if tuple(k) not in present]
            if gone:
                yield gone


def _by_ranges(src, src_conn, source_table, dst, dst_conn, target_table) -> Iterator[list[tuple]]:
    k, ks = target_table.primary_key[0], source_table.primary_key[0]  # names may differ
    lo, hi, rows = _bounds(dst, dst_conn, target_table, k)
    if lo is None:
        return  # an empty target has nothing to delete
    parts = max(1, -(-rows // RANGE_ROWS))
    todo = _split(lo - 1, hi, parts)
    while todo:
        a, b = todo.pop()
        theirs = _summary(src, src_conn, source_table, ks, a, b)
        ours = _summary(dst, dst_conn, target_table, k, a, b)
        if theirs == ours:
            continue
        if ours[0] <= LEAF_ROWS or b - a <= SPLIT:
            gone = _keys(dst, dst_conn, target_table, k, a, b) - _keys(
                src, src_conn, source_table, ks, a, b
            )
            for i in range(0, len(gone), BATCH):
                yield [(v,) for v in sorted(gone)[i : i + BATCH]]
        else:
            todo.extend(_split(a, b, SPLIT))


def _split(a: int, b: int, parts: int) -> list[tuple[int, int]]:
    """`parts` ranges (lo, hi] covering (a, b]."""
    step = max(1, -(-(b - a) // parts))
    edges = list(range(a, b, step)) + [b]
    return [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def _bounds(d: Dialect, conn, table: Table, k: str) -> tuple[Any, Any, int]:
    q = d.quote(k)
    cur = conn.cursor()
    cur.execute(f"SELECT MIN({q}), MAX({q}), COUNT(*) FROM {d.relation_sql(table)}")
    lo, hi, n = cur.fetchone()
    return lo, hi, int(n)


def summary_sql(d: Dialect, table: Table, k: str) -> str:
    """(row count, sum of keys) of the range `lo < k <= hi`: the key's index answers it."""
    q = d.quote(k)
    return d.finalize(f"SELECT COUNT(*), {d.key_sum_sql(q)} FROM {d.relation_sql(table)} "
                      f"WHERE {q} > {PARAM} AND {q} <= {PARAM}{_filter(d, table)}")  # fmt: skip


def _filter(d: Dialect, table: Table) -> str:
    """` AND (condition)` of a source table's `--where`; nothing for a target's table."""
    return f" AND {d.row_filter_sql(table.where)}" if table.where else ""


def _summary(d: Dialect, conn, table: Table, k: str, a: int, b: int) -> tuple[int, int]:
    cur = conn.cursor()
    cur.execute(summary_sql(d, table, k), d.bind([a, b]))
    n, total = cur.fetchone()
    return int(n), int(total or 0)


def _keys(d: Dialect, conn, table: Table, k: str, a: int, b: int) -> set[int]:
    q = d.quote(k)
    sql = (f"SELECT {q} FROM {d.relation_sql(table)} WHERE {q} > {PARAM} AND {q} <= {PARAM}"
           f"{_filter(d, table)}")  # fmt: skip
    cur = conn.cursor()
    cur.execute(d.finalize(sql), d.bind([a, b]))
    found: set[int] = set()  # at most LEAF_ROWS keys, or a SPLIT-wide range
    while rows := cur.fetchmany(BATCH):
        found.update(int(r[0]) for r in rows)
    return found


def _by_lookup(src, src_conn, source_table, dst, dst_conn, target_table) -> Iterator[list[tuple]]:
    """Target keys in batches, each asked of the source; the target's read streams."""
    fetch = dst.read_range(dst_conn, _only_key(target_table), None, None, BATCH, ordered=False)
    for batch in fetch:
        present = _present(src, src_conn, source_table, source_table.primary_key, batch)
        gone = [k for k in batch if tuple(k) not in present]
        if gone:
            yield [tuple(k) for k in gone]


def _only_key(table: Table) -> Table:
    return replace(table, columns=tuple(table.column(k) for k in table.primary_key))


def _present(d: Dialect, conn, table: Table, key, batch) -> set[tuple]:
    cols = ", ".join(d.quote(k) for k in key)
    one = "(" + " AND ".join(f"{d.quote(k)} = {PARAM}" for k in key) + ")"
    where = " OR ".join([one] * len(batch))
    cur = conn.cursor()
    cur.execute(d.finalize(f"SELECT {cols} FROM {d.relation_sql(table)} WHERE ({where})"
                           f"{_filter(d, table)}"),
                d.bind([v for row in batch for v in row]))  # fmt: skip
    return {tuple(r) for r in cur.fetchmany(len(batch))}  # keys are unique: at most the batch


def delete_gone(tp: TablePlan, src: Dialect, src_conn, dst: Dialect, reader, writer,
                live: Table) -> int:  # fmt: skip
    """The delete pass (`sync.run`): keys compared, the target's rows whose keys the source no
    longer has deleted, and counted in the table's state row, in one transaction."""
    log.debug("%s: comparing key ranges for deleted rows", tp.name)
    src.begin_read(src_conn)  # the source's keys: read-only, as of one instant (ADR 0010)
    total = 0
    cur = writer.cursor()
    for keys in deleted_keys(src, src_conn, tp.table, dst, reader, live):
        one = "(" + " AND ".join(f"{dst.quote(k)} = {PARAM}" for k in live.primary_key) + ")"
        where = " OR ".join([one] * len(keys))
        cur.execute(dst.finalize(f"DELETE FROM {dst.relation_sql(live)} WHERE {where}"),
                    dst.bind([v for row in keys for v in row]))  # fmt: skip
        total += len(keys)
    state = sync_state.read(dst, writer, tp.name)
    if state is not None:
        sync_state.write(dst, writer, replace(state, rows_deleted=total))
    writer.commit()
    return total
