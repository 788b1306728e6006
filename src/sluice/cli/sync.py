"""The `sync` command: argument parsing and printing only (the work is sluice.sync)."""

from __future__ import annotations

import argparse
import json

from sluice.cli.cdc import add_sync_cdc_options, cmd_sync_cdc
from sluice.cli.metrics import add_metrics_options
from sluice.cli.options import (
    add_endpoints,
    add_liveness_options,
    add_value_options,
    command,
    endpoints,
    parse_size,
    print_skipped,
    value_settings,
)


def add_sync_options(p: argparse.ArgumentParser) -> None:
    add_endpoints(p)
    p.add_argument("--watermarks", metavar="FILE",
                   help="per-table watermarks, JSON or YAML (over the defaults)")  # fmt: skip
    p.add_argument("--no-deletes", action="store_true",
                   help="skip comparing key ranges for rows deleted in the source")  # fmt: skip
    p.add_argument("--memory-cap", type=parse_size, metavar="SIZE", default="128MiB",
                   help="bytes buffered between reader and writer (default 128MiB)")  # fmt: skip
    add_value_options(p)
    add_liveness_options(p)
    add_metrics_options(p)
    add_sync_cdc_options(p)
    p.add_argument("--json", metavar="FILE", help="also write the summary as JSON to FILE")


def sync_options(args: argparse.Namespace):
    """The sync's options from its flags (or a job's keys: cli/jobfile.py)."""
    from sluice.sync import SyncOptions, watermarks

    return SyncOptions(
        watermarks=watermarks.load(args.watermarks) if args.watermarks else None,
        deletes=not args.no_deletes,
        memory_cap=args.memory_cap,
        **value_settings(args),
    )


def cmd_sync(args: argparse.Namespace) -> int:
    from sluice.sync import sync_database

    source, target = endpoints(args)
    options = sync_options(args)
    if getattr(args, "cdc", False):
        return cmd_sync_cdc(args, source, target, options)
    result = sync_database(source, target, options)
    print_summary(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary_dict(result), fh, indent=2)
    return 0


def summary_dict(result) -> dict:
    return {
        "seconds": round(result.seconds, 3),
        "moved": result.moved,
        "tables": {
            t.table: {
                "watermark": t.watermark, "read": t.read, "inserted": t.inserted,
                "updated": t.updated, "deleted": t.deleted,
                "before": None if t.before is None else str(t.before),
                "after": None if t.after is None else str(t.after),
                "added_columns": t.drift.added, "widened_columns": t.drift.widened,
            }
            for t in result.tables
        },
        "skipped": [{"table": s.table, "reason": s.reason} for s in result.skipped],
    }  # fmt: skip


def print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table as Grid

    grid = Grid(title=f"sync complete in {result.seconds:.1f}s: {result.moved:,} rows moved")
    for col in ("table", "watermark", "read", "inserted", "updated", "deleted", "schema"):
        grid.add_column(col, justify="left" if col in ("table", "watermark", "schema") else "right")
    for t in result.tables:
        schema = ", ".join([f"+{c}" for c in t.drift.added] + [f"~{c}" for c in t.drift.widened])
        grid.add_row(t.table, t.watermark, f"{t.read:,}", f"{t.inserted:,}", f"{t.updated:,}",
                     f"{t.deleted:,}", schema or "-")  # fmt: skip
    console = Console(width=110)
    console.print(grid)
    print_skipped(console, result.skipped)


def register(sub: argparse._SubParsersAction) -> None:
    syn = command(
        sub,
        "sync",
        cmd_sync,
        "move only what changed since the last sync: watermarked upserts, deletes by key range",
        "sluice sync --source postgresql://pg/src --target postgresql://pg/dst --tables Votes",
    )
    add_sync_options(syn)
