"""What an incremental sync of 1% changed rows costs next to a full copy (issue 8).

    python bench/sync.py [--server URL] [--scale 0.1] [--runs 3] [--percent 1]

StackOverflow2010 at --scale (bench/memory.py's dataset) is copied into a scratch source,
which is then copied into a target and synced once. Each run then changes --percent of the
source's rows (a third inserted into Votes, a third of Posts updated through their
LastActivityDate, a third deleted from Comments) and times `sluice sync` into the replica,
beside the time and peak RSS of a full `sluice copy` of the same source; the replica is
verified after the last sync. PostgreSQL -> PostgreSQL.
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

ROOT = Path(__file__).resolve().parents[1]
SLUICE = [sys.executable, "-m", "sluice.cli"]
PEAK = [sys.executable, str(Path(__file__).with_name("_peak.py"))]


def measured(args: list[str], env: dict) -> tuple[float, int]:
    started = time.monotonic()
    out = subprocess.run([*PEAK, *SLUICE, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: sluice {args[0]}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return time.monotonic() - started, int(out.stdout.strip().splitlines()[-1])


def change(url: str, rows: int, run: int) -> dict[str, int]:
    """Insert, update and delete about `rows` rows in all; what was done, per table."""
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    u = DbUrl.parse(url)
    d = get_dialect(u.engine)
    third = max(1, rows // 3)
    stamp = f"TIMESTAMP '2031-01-01' + INTERVAL '{run} day'"
    with d.connect(u) as conn:
        conn.execute(
            'INSERT INTO "Votes" ("Id", "PostId", "VoteTypeId", "CreationDate") OVERRIDING '
            f'SYSTEM VALUE SELECT m + g, 1, 2, {stamp} FROM (SELECT MAX("Id") m FROM "Votes") '
            f"x, generate_series(1, {third}) g"
        )
        conn.execute(
            f'UPDATE "Posts" SET "Score" = "Score" + 1, "LastActivityDate" = {stamp} WHERE '
            f'"Id" IN (SELECT "Id" FROM "Posts" ORDER BY "Id" OFFSET {run * third} LIMIT {third})'
        )
        conn.execute(
            'DELETE FROM "Comments" WHERE "Id" IN (SELECT "Id" FROM "Comments" ORDER BY "Id" '
            f"LIMIT {third})"
        )
    return {"Votes inserted": third, "Posts updated": third, "Comments deleted": third}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="PostgreSQL server URL (default: embedded)")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--percent", type=float, default=1.0)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "sync.json"))
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args.server = server_url(args.server)
    from sluice.datasets.stackoverflow.generate import row_counts

    base = dataset(args.server, args.scale, env)
    source = url_for(args.server, "bench_sync_source")
    target = url_for(args.server, "bench_sync_target")
    measured(["copy", "--source", base, "--target", source], env)  # a source we may change
    ends = ["--source", source, "--target", target]
    copies = [measured(["copy", *ends], env) for _ in range(args.runs)]
    measured(["sync", *ends], env)  # state rows from the replica
    rows = int(sum(row_counts(args.scale).values()) * args.percent / 100)
    syncs, changed = [], {}
    for run in range(args.runs):
        changed = change(source, rows, run)
        syncs.append(measured(["sync", *ends, "--json", str(ROOT / "bench" / "results" /
                                                            "sync-last.json")], env))  # fmt: skip
    verified = subprocess.run([*SLUICE, "verify", *ends, "--no-checks"], env=env,
                              capture_output=True).returncode == 0  # fmt: skip
    c = statistics.median(t for t, _ in copies)
    s = statistics.median(t for t, _ in syncs)
    result = {
        "scale": args.scale, "percent": args.percent, "rows_changed_per_run": rows,
        "changes": changed, "copy_s": round(c, 2), "sync_s": round(s, 2),
        "sync_over_copy": round(s / c, 3), "copy_peak_mib": max(p for _, p in copies) / 2**20,
        "sync_peak_mib": max(p for _, p in syncs) / 2**20, "verified": verified,
        "copy_runs": [round(t, 2) for t, _ in copies], "sync_runs": [round(t, 2) for t, _ in syncs],
    }  # fmt: skip
    print(f"full copy {c:.2f}s ({result['copy_peak_mib']:.0f} MiB)  sync of {args.percent}% "
          f"({rows:,} rows) {s:.2f}s ({result['sync_peak_mib']:.0f} MiB)  sync/copy "
          f"{s / c:.3f}  verified: {'yes' if verified else 'NO'}")  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
