"""What verification costs next to the copy it checks (issue: "no more than the copy itself").

    python bench/verify.py [--server URL] [--mysql URL] [--scale 0.1] [--runs 3]

For each path: `sluice copy` into a fresh target, then `sluice verify` of that replica, each in a
child process, `--runs` times; prints median wall seconds of both and their ratio. The
PostgreSQL -> PostgreSQL path is verified twice: with the server-side digest it uses by default
and with `--canonical` (the client-side encoding every cross-engine pair uses).
To publish a run: copy its JSON to docs/benchmarks-verify.json, then `python
tools/bench_tables.py` rewrites the table in docs/benchmarks.md (the one home of the figures).
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


def timed(args: list[str], env: dict) -> float:
    started = time.monotonic()
    out = subprocess.run([*SLUICE, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: sluice {args[0]}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="PostgreSQL server URL (default: embedded)")
    ap.add_argument("--mysql", help="MySQL/MariaDB server URL for the cross-engine path")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "verify.json"))
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args.server = server_url(args.server)
    source = dataset(args.server, args.scale, env)
    paths = [
        (
            "postgresql -> postgresql",
            url_for(args.server, "bench_verify_target"),
            [[], ["--canonical"]],
        )
    ]
    if args.mysql:
        paths.append(("postgresql -> mysql", url_for(args.mysql, "bench_verify_target"), [[]]))
    results = []
    for label, target, variants in paths:
        ends = ["--source", source, "--target", target]
        copies = [timed(["copy", *ends], env) for _ in range(args.runs)]
        for extra in variants:
            verifies = [timed(["verify", *ends, *extra], env) for _ in range(args.runs)]
            c, v = statistics.median(copies), statistics.median(verifies)
            name = f"{label} verify{' ' + ' '.join(extra) if extra else ''}"
            results.append({"path": name, "copy_s": round(c, 2), "verify_s": round(v, 2),
                            "ratio": round(v / c, 2), "copy_runs": copies,
                            "verify_runs": verifies})  # fmt: skip
            print(f"{name:<45} copy {c:7.2f}s  verify {v:7.2f}s  verify/copy {v / c:5.2f}",
                  flush=True)  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"scale": args.scale, "runs": results}, indent=2))


if __name__ == "__main__":
    main()
