"""Change capture next to watermark sync for the same changes (issue 16).

    python bench/cdc.py [--server URL] [--scale 0.1] [--runs 3] [--percent 1]

StackOverflow2010 at --scale (bench/memory.py's dataset) is copied into a scratch source,
then into two replicas: one with `sluice copy --cdc` (change capture), one plain and synced
once (watermarks). Each run changes --percent of the source's rows as bench/sync.py does (a
third inserted into Votes, a third of Posts updated, a third deleted from Comments), then
times `sluice sync --cdc` into the first replica and `sluice sync` into the second, each with
its peak RSS. Changes applied per second are the log's row changes over the sync's time;
end-to-end lag is from the last source commit to the replica's commit of it (the end of
`sync --cdc`). Two last runs change 5 and 20 times as many rows in one source transaction:
peak RSS stays bounded (changes are netted within an eighth of the memory cap, then written
into the open target transaction), flat once that budget is reached. Both replicas are
verified at the end. PostgreSQL -> PostgreSQL; the server needs wal_level=logical (the
embedded one has it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import dataset, server_url, url_for  # noqa: E402

from sync import PEAK, SLUICE, change, measured  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAST = ROOT / "bench" / "results" / "cdc-last.json"


def capture_sync(ends: list[str], env: dict) -> tuple[float, int, dict, float]:
    """`sync --cdc`: seconds, peak RSS, its JSON summary, and the wall clock at its end."""
    started = time.monotonic()
    out = subprocess.run([*PEAK, *SLUICE, "sync", "--cdc", *ends, "--json", str(LAST)],
                         env=env, capture_output=True, text=True)  # fmt: skip
    ended = time.time()
    if out.returncode != 0:
        sys.exit(f"failed: sluice sync --cdc\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    peak = int(out.stdout.strip().splitlines()[-1])
    return time.monotonic() - started, peak, json.loads(LAST.read_text()), ended


def logical(url: str) -> bool:
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    u = DbUrl.parse(url)
    with get_dialect(u.engine).connect(u) as conn:
        return conn.execute("SHOW wal_level").fetchone()[0] == "logical"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="PostgreSQL server URL with wal_level=logical "
                                     "(default: embedded)")  # fmt: skip
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--percent", type=float, default=1.0)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "cdc.json"))
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args.server = server_url(args.server)
    LAST.parent.mkdir(parents=True, exist_ok=True)
    if not logical(args.server):
        sys.exit("bench/cdc.py: the server's wal_level is not logical; run it on the embedded "
                 "PostgreSQL (no --server) or a server with wal_level=logical")  # fmt: skip
    from sluice.datasets.stackoverflow.generate import row_counts

    base = dataset(args.server, args.scale, env)
    source = url_for(args.server, "bench_cdc_source")
    captured, watermarked = (url_for(args.server, n) for n in ("bench_cdc_log", "bench_cdc_wm"))
    measured(["copy", "--source", base, "--target", source], env)  # a source we may change
    cdc_ends = ["--source", source, "--target", captured]
    wm_ends = ["--source", source, "--target", watermarked]
    subprocess.run([*SLUICE, "cdc", "stop", *cdc_ends], env=env, capture_output=True)
    measured(["copy", "--cdc", *cdc_ends], env)
    measured(["copy", *wm_ends], env)
    measured(["sync", *wm_ends], env)  # watermarks from the replica
    rows = int(sum(row_counts(args.scale).values()) * args.percent / 100)
    runs = []
    for run, times in enumerate([1] * args.runs + [5, 20]):
        size = rows * times
        change(source, size, run)
        committed = time.time()
        seconds, peak, summary, ended = capture_sync(cdc_ends, env)
        wm_seconds, wm_peak = measured(["sync", *wm_ends], env)
        runs.append({"rows_changed": size, "cdc_s": round(seconds, 2),
                     "changes": summary["changes"], "transactions": summary["transactions"],
                     "batches": summary["batches"],
                     "changes_per_s": round(summary["changes"] / seconds),
                     "lag_s": round(ended - committed, 2), "cdc_peak_mib": peak / 2**20,
                     "watermark_s": round(wm_seconds, 2),
                     "watermark_peak_mib": wm_peak / 2**20})  # fmt: skip
        print(f"run {run + 1}: {size:,} rows asked, {summary['changes']:,} changes logged: "
              f"sync --cdc {seconds:.2f}s "
              f"({runs[-1]['changes_per_s']:,} changes/s, lag {runs[-1]['lag_s']:.2f}s, "
              f"{peak / 2**20:.0f} MiB)  watermark sync {wm_seconds:.2f}s "
              f"({wm_peak / 2**20:.0f} MiB)")  # fmt: skip
    verified = all(subprocess.run([*SLUICE, "verify", *ends, "--no-checks"], env=env,
                                  capture_output=True).returncode == 0
                   for ends in (cdc_ends, wm_ends))  # fmt: skip
    subprocess.run([*SLUICE, "cdc", "stop", *cdc_ends], env=env, capture_output=True)
    same = runs[: args.runs]
    result = {
        "scale": args.scale, "percent": args.percent, "rows_changed_per_run": rows,
        "cdc_s": statistics.median(r["cdc_s"] for r in same),
        "changes_per_s": statistics.median(r["changes_per_s"] for r in same),
        "lag_s": statistics.median(r["lag_s"] for r in same),
        "watermark_s": statistics.median(r["watermark_s"] for r in same),
        "cdc_peak_mib": max(r["cdc_peak_mib"] for r in same),
        "cdc_peak_mib_5x": runs[-2]["cdc_peak_mib"], "cdc_peak_mib_20x": runs[-1]["cdc_peak_mib"],
        "verified": verified, "runs": runs,
    }  # fmt: skip
    print(f"medians of {args.runs}: sync --cdc {result['cdc_s']:.2f}s "
          f"({result['changes_per_s']:,} changes/s, lag {result['lag_s']:.2f}s), watermark "
          f"sync {result['watermark_s']:.2f}s; peak RSS {result['cdc_peak_mib']:.0f} MiB, "
          f"{result['cdc_peak_mib_5x']:.0f} MiB at 5x the changes, "
          f"{result['cdc_peak_mib_20x']:.0f} MiB at 20x; verified: "
          f"{'yes' if verified else 'NO'}")  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
