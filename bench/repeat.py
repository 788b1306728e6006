"""Repeat one copy several times in one process and print RSS after each run and the peak.

    python bench/repeat.py SOURCE_URL TARGET_URL [--runs 3] [--tables A,B]

Growth from run to run, with the same tables, is retention over the run's length rather
than growth with table size (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import gc
import threading
import time

import psutil

from sluice.copy import CopyOptions, copy_database
from sluice.core.urls import DbUrl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("target")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tables")
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    args = ap.parse_args()
    src, dst = DbUrl.parse(args.source), DbUrl.parse(args.target)
    tables = args.tables.split(",") if args.tables else None
    proc, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    for i in range(1, args.runs + 1):
        result = copy_database(src, dst, CopyOptions(tables=tables, chunk_rows=args.chunk_rows))
        gc.collect()
        rss = proc.memory_info().rss / 2**20
        print(f"run {i}: ok={result.ok} {result.seconds:.0f}s  resting RSS {rss:.1f} MiB  "
              f"peak so far {peak[0] / 2**20:.1f} MiB", flush=True)  # fmt: skip
    done.set()


if __name__ == "__main__":
    main()
