"""Peak RSS of `sluice copy` at scales 10x apart: the memory cap must not grow with the data.

    python bench/memory.py [--server URL] [--mysql URL] [--scales 0.01,0.1] [--memory-cap 128MiB]

Generates StackOverflow2010 at each scale into `<server>/bench_so_<scale>` (reused when
present), then runs the real `sluice` command in a child process for each path and reads
the child's peak resident set size from the kernel (getrusage RUSAGE_CHILDREN, per run).
Without --server it uses the embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUICE = [sys.executable, "-m", "sluice.cli"]


def run(args: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process."""
    started = time.monotonic()
    cmd = [sys.executable, str(Path(__file__).with_name("_peak.py")), *SLUICE, *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{out.stderr[-3000:]}")
    peak = int(out.stdout.strip().splitlines()[-1])
    return time.monotonic() - started, peak


def generated(source: str, scale: float) -> bool:
    """Whether `source` already holds the dataset at `scale` (generation is deterministic)."""
    from sluice.core.errors import SluiceError
    from sluice.core.urls import DbUrl
    from sluice.datasets.loader import count_rows
    from sluice.datasets.stackoverflow import TABLES
    from sluice.datasets.stackoverflow.generate import row_counts

    try:
        return count_rows(DbUrl.parse(source), list(TABLES.values())) == row_counts(scale)
    except SluiceError:
        return False


def server_url(given: str | None) -> str:
    """The server to benchmark on: the one given, else the embedded PostgreSQL."""
    if given:
        return given
    from sluice.core import embedded

    return embedded.start().render_secret()


def dataset(server: str, scale: float, env: dict) -> str:
    """The URL of StackOverflow2010 at `scale` on `server`, generated unless already there."""
    tag = str(scale).replace(".", "_")
    source = url_for(server, f"bench_so_{tag}")
    if not generated(source, scale):
        gen = ["generate", "stackoverflow", "--scale", str(scale), "--target", source]
        subprocess.run([*SLUICE, *gen, "--replace"], env=env, check=True, capture_output=True)
    analyze(source)
    return source


def analyze(source: str) -> None:
    """Statistics as a production source has them (autovacuum would gather them a minute or
    so after generation): every run then plans from the same figures, whenever it starts."""
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    url = DbUrl.parse(source)
    if url.engine != "postgresql":  # only PostgreSQL's statistics are read by the plan
        return
    with get_dialect(url.engine).connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def url_for(server: str, database: str) -> str:
    from sluice.core.urls import DbUrl

    return DbUrl.parse(server).with_database(database).render_secret()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="PostgreSQL server URL (default: embedded)")
    ap.add_argument("--mysql", help="MySQL/MariaDB server URL for the cross-engine paths")
    ap.add_argument("--scales", default="0.01,0.1")
    ap.add_argument("--memory-cap", default="128MiB")
    ap.add_argument("--workers", default="4")
    ap.add_argument(
        "--chunk-rows",
        default="250000",
        help="the same chunking at every scale isolates the effect of table size",
    )
    ap.add_argument("--path", default="", help="only the paths whose label contains this")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "memory.json"))
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args.server = server_url(args.server)
    from sluice.cli.options import parse_size

    cap = parse_size(args.memory_cap)
    results = []
    for scale in [float(s) for s in args.scales.split(",")]:
        source = dataset(args.server, scale, env)
        pg_target = url_for(args.server, "bench_target")
        paths = [("postgresql -> postgresql (raw binary COPY)", source, pg_target)]
        if args.mysql:
            my_target = url_for(args.mysql, "bench_target")
            paths.append(("postgresql -> mysql (raw CSV, LOAD DATA)", source, my_target))
            my_source = dataset(args.mysql, scale, env)
            paths.append(("mysql -> postgresql (rows as CSV, COPY)", my_source, pg_target))
        paths = [p for p in paths if args.path in p[0]]
        for label, source, target in paths:
            cmd = ["copy", "--source", source, "--target", target, "--memory-cap", args.memory_cap,
                   "--workers", args.workers, "--chunk-rows", args.chunk_rows]  # fmt: skip
            # the interpreter baseline of this very command: drivers loaded, both databases
            # connected and reflected, but only the 15-row VoteTypes table to move
            _, baseline = run([*cmd, "--tables", "VoteTypes"], env)
            seconds, peak = run(cmd, env)
            limit = baseline + cap
            results.append({"scale": scale, "path": label, "seconds": round(seconds, 2),
                            "peak_rss_mib": round(peak / 2**20, 1),
                            "baseline_rss_mib": round(baseline / 2**20, 1),
                            "within_cap": peak <= limit})  # fmt: skip
            print(f"scale {scale:<6} {label:<40} {seconds:7.2f}s  peak RSS {peak / 2**20:7.1f} MiB"
                  f"  baseline {baseline / 2**20:5.1f} + cap {cap / 2**20:.0f} = "
                  f"{limit / 2**20:6.1f} MiB  {'ok' if peak <= limit else 'OVER'}",
                  flush=True)  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps({"memory_cap": args.memory_cap, "runs": results}, indent=2)
    )


if __name__ == "__main__":
    main()
