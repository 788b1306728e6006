"""SQL Server -> PostgreSQL without a SQL Server: the Python cost of pymssql-shaped rows into
COPY, as decoded values and as the CSV lines SQL Server renders (dialects/mssql_export).

    python bench/mssql_decode.py [--server URL] [--rows 200000] [--runs 3]

N rows of StackOverflow2010's Posts are generated as pymssql returns them (int, str,
datetime with milliseconds, None), then loaded into a temporary table of the PostgreSQL
target (--server, else the embedded PostgreSQL), each path `--runs` times:

* decoded: a cursor's `fetchmany` batches sized as sluice sizes them, the source dialect's
  decode converters, `estimate_size`, the PostgreSQL dialect's encode converters and
  `bulk_load` (binary COPY): what sluice runs for SQL Server -> PostgreSQL today;
* csv: the same rows as the one str per row pymssql returns for the export's statement
  (rendered in Python before the clock, by the rules of its T-SQL), `csv_blocks` (blocks of
  whole lines, UTF-8), the reader's gathering into `batch_bytes` and `raw_write` (COPY csv).

Rows per second (wall) and CPU seconds of this process are medians of the runs; the server's
own time shows in the wall clock only. pymssql's own work is not measured (no server): it
builds one object per value on the decoded path and one str per row on the CSV path, which
favours the CSV path further. Both tables are compared at the end (md5 of every row's text).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from memory import server_url  # noqa: E402

from sluice.copy.buffer import FetchSize, estimate_size  # noqa: E402
from sluice.copy.transfer import TransferOptions, converter  # noqa: E402
from sluice.core.schema import Table  # noqa: E402
from sluice.core.urls import DbUrl  # noqa: E402
from sluice.datasets.stackoverflow import ROW_COUNTS, TABLES  # noqa: E402
from sluice.datasets.stackoverflow.generate import Generator  # noqa: E402
from sluice.dialects import get_dialect, mssql_export  # noqa: E402

SRC, DST = get_dialect("mssql"), get_dialect("postgresql")
# the staging table's columns: no key, no identity (the values are the source's)
POSTS = tuple(replace(c, identity=False) for c in TABLES["Posts"].columns)


class Cursor:
    """Rows handed out by `fetchmany` as pymssql hands them out: tuples, batch by batch."""

    def __init__(self, rows: list[tuple]):
        self.rows, self.at = rows, 0

    def fetchmany(self, n) -> list[tuple]:
        n = int(n)
        batch = self.rows[self.at : self.at + n]
        self.at += n
        return batch


def field(v) -> str:
    """What the export's T-SQL renders for a Posts value: int as its digits, nvarchar quoted
    with quotes doubled, datetime by style 121 (milliseconds), NULL as nothing."""
    if v is None:
        return ""
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"'
    if hasattr(v, "isoformat"):
        return v.isoformat(" ", "milliseconds")
    return str(v)


def posts(n: int) -> list[tuple]:
    scale = math.ceil(n / ROW_COUNTS["Posts"] * 1000) / 1000
    return list(itertools.islice(Generator(scale).rows("Posts"), n))


def decoded(conn, table: Table, rows: list[tuple], options: TransferOptions) -> int:
    """Reader and writer of sluice's decoded path, in one thread."""
    cur = Cursor(rows)
    decode = converter(SRC.decode_converters(table))
    encode = converter(DST.encode_converters(table))
    fetch = FetchSize(options.batch_rows, options.batch_bytes)

    def batches():
        while batch := cur.fetchmany(fetch):
            fetch.observe(len(batch), estimate_size(batch))
            if decode is not None:
                batch = [decode(r) for r in batch]
            yield batch

    def values():
        for batch in batches():
            if encode is None:
                yield from batch
            else:
                yield from map(encode, batch)

    return DST.bulk_load(conn, table, values())


def csv(conn, table: Table, lines: list[tuple], options: TransferOptions) -> int:
    """Reader and writer of the CSV path, in one thread: blocks gathered to batch_bytes."""

    def gathered():
        pending = bytearray()
        for block in mssql_export.csv_blocks(Cursor(lines), table):
            pending += block
            if len(pending) >= options.batch_bytes:
                yield bytes(pending)
                pending = bytearray()
        if pending:
            yield bytes(pending)

    return DST.raw_write(conn, table, gathered(), mssql_export.FORMAT)


def timed(conn, table: Table, load, data, options) -> tuple[float, float]:
    conn.execute(f"TRUNCATE {DST.qualified(table)}")
    conn.commit()
    wall, cpu = time.perf_counter(), time.process_time()
    n = load(conn, table, data, options)
    conn.commit()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert n == len(data), (table.name, n, len(data))
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="PostgreSQL server URL (default: embedded)")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "mssql-decode.json"))
    args = ap.parse_args()
    url = DbUrl.parse(server_url(args.server))
    options = TransferOptions()

    rows = posts(args.rows)
    lines = [(",".join(map(field, r)) + "\n",) for r in rows]
    megabytes = sum(len(line[0].encode()) for line in lines) / 1e6
    tables = {path: Table(f"bench_posts_{path}", POSTS) for path in ("decoded", "csv")}
    loads = {"decoded": (decoded, rows), "csv": (csv, lines)}
    times: dict[str, list[tuple[float, float]]] = {path: [] for path in loads}
    with DST.connect(url) as conn:
        for t in tables.values():
            for stmt in DST.create_table_sql(t, primary_key=False):
                conn.execute(stmt.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
        conn.commit()
        for run in range(args.runs):
            for path, (load, data) in loads.items():
                times[path].append(timed(conn, tables[path], load, data, options))
            print(f"run {run + 1}: " + "  ".join(
                f"{p} {w:.2f}s wall {c:.2f}s CPU" for p, (w, c) in
                ((p, times[p][-1]) for p in loads)))  # fmt: skip
        digest = "SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.\"Id\")) FROM {} AS t"
        same = len({conn.execute(digest.format(DST.qualified(t))).fetchone()[0]
                    for t in tables.values()}) == 1  # fmt: skip
    result = {"rows": len(rows), "csv_mb": round(megabytes, 1), "runs": args.runs,
              "same_rows": same}  # fmt: skip
    for path, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        result[path] = {"rows_per_s": round(len(rows) / wall), "wall_s": round(wall, 3),
                        "cpu_s": round(cpu, 3), "runs": runs}  # fmt: skip
    result["cpu_ratio"] = round(result["decoded"]["cpu_s"] / result["csv"]["cpu_s"], 2)
    for path in loads:
        r = result[path]
        print(
            f"{path:8} {r['rows_per_s']:>10,} rows/s  {r['cpu_s']:.2f} s CPU "
            f"(median of {args.runs}, {len(rows):,} Posts rows, {megabytes:.0f} MB as CSV)"
        )
    print(f"decoded / csv CPU: {result['cpu_ratio']}x; same rows in both tables: {same}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    if not same:
        sys.exit("bench/mssql_decode.py: the two paths stored different rows")


if __name__ == "__main__":
    main()
