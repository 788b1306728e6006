"""The `cdc` command (status, stop) and the change-capture halves of `copy --cdc` and
`sync --cdc`: argument parsing and printing only (the work is sluice.capture)."""

from __future__ import annotations

import argparse
import json
import sys

from sluice.cli.options import add_endpoints, command, endpoints, parse_size, positive

LAG_WARNING = "1GiB"


def add_capture_name(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cdc-name", metavar="NAME",
                   help="the capture's name (the slot's on PostgreSQL): default made from the "
                        "target's address, so each replica keeps its own")  # fmt: skip


def add_cdc_options(p: argparse.ArgumentParser, doing: str) -> None:
    p.add_argument("--cdc", action="store_true", help=doing)
    add_capture_name(p)


def start_for_copy(args: argparse.Namespace, source, target, options) -> None:
    """`copy --cdc`: start capture before the copy reads its first chunk."""
    from sluice.capture import start_capture

    started = start_capture(source, target, options, args.cdc_name)
    print(f"change capture {started.name} started at {started.position} "
          f"({len(started.tables)} table(s)); `sluice cdc stop` drops it",
          file=sys.stderr)  # fmt: skip


def cmd_sync_cdc(args: argparse.Namespace, source, target, options) -> int:
    from sluice.capture import sync_changes

    result = sync_changes(source, target, options, args.cdc_name, args.batch_changes)
    print_result(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result_dict(result), fh, indent=2)
    return 0


def result_dict(result) -> dict:
    status = result.status
    return {
        "capture": result.name, "before": result.before, "after": result.after,
        "seconds": round(result.seconds, 3), "batches": result.batches,
        "transactions": result.transactions, "changes": result.changes, "moved": result.moved,
        "lag_bytes": status.lag_bytes if status else None,
        "tables": {name: vars(a) for name, a in result.tables.items()},
    }  # fmt: skip


def print_result(result) -> None:
    from rich.console import Console
    from rich.table import Table as Grid

    grid = Grid(title=f"sync --cdc complete in {result.seconds:.1f}s: {result.changes:,} "
                      f"change(s) in {result.transactions:,} transaction(s), "
                      f"{result.moved:,} rows moved")  # fmt: skip
    for col in ("table", "inserted", "updated", "deleted", "truncated"):
        grid.add_column(col, justify="left" if col == "table" else "right")
    for name, a in result.tables.items():
        grid.add_row(name, f"{a.inserted:,}", f"{a.updated:,}", f"{a.deleted:,}",
                     f"{a.truncated:,}")  # fmt: skip
    console = Console(width=110)
    console.print(grid)
    lag = result.status.lag_bytes if result.status else None
    console.print(f"capture {result.name}: {result.before} -> {result.after}"
                  + (f", source now {lag:,} bytes ahead" if lag is not None else ""))  # fmt: skip


def cmd_cdc(args: argparse.Namespace) -> int:
    from sluice.capture import capture_status, stop_capture

    source, target = endpoints(args)
    if args.action == "stop":
        dropped = stop_capture(source, target, args.cdc_name)
        print("change capture stopped" if dropped else "no change capture to stop")
        return 0
    here, status = capture_status(source, target, args.cdc_name)
    report = _status_dict(here, status)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for key, value in report.items():
            print(f"{key:>16}: {value}")
    warn = status.lag_bytes is not None and status.lag_bytes > args.lag_warning
    if warn:
        print(f"warning: the source keeps {status.lag_bytes:,} bytes of log for this capture "
              "(over --lag-warning): run `sluice sync --cdc`, or `sluice cdc stop` if the "
              "replica is gone (a forgotten slot holds WAL forever)", file=sys.stderr)  # fmt: skip
    if here is None or not status.exists:
        return 1
    return 3 if warn else 0


def _status_dict(here, status) -> dict:
    from sluice.state.positions import utcnow

    behind = None
    if here is not None and here.source_commit and status.lag_bytes:
        behind = round((utcnow() - here.source_commit).total_seconds(), 1)
    return {
        "capture": here.name if here else None,
        "on_source": "present" if status.exists else "missing",
        "replica_at": here.position if here else None,
        "source_at": status.current,
        "lag_bytes": status.lag_bytes,
        "lag_seconds": behind if status.lag_bytes else 0.0,
        "last_applied": here.applied if here else None,
        "changes_applied": here.changes if here else None,
        "reader_active": status.active,
        "detail": status.detail,
    }


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "cdc", cmd_cdc,
                "change capture: its lag and state (status), or drop it on the source (stop)",
                "sluice cdc status --source postgresql://pg/src --target postgresql://pg/dst",
                )  # fmt: skip
    p.add_argument("action", choices=("status", "stop"))
    add_endpoints(p)
    add_capture_name(p)
    p.add_argument("--lag-warning", type=parse_size, default=LAG_WARNING, metavar="SIZE",
                   help=f"warn (exit 3) when the source keeps more log than this for the "
                        f"capture (default {LAG_WARNING})")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the status as JSON")


def add_sync_cdc_options(p: argparse.ArgumentParser) -> None:
    add_cdc_options(p, "apply the source's change log since the last position (after copy "
                       "--cdc) instead of watermarks")  # fmt: skip
    p.add_argument(
        "--batch-changes",
        type=positive,
        default=10_000,
        metavar="N",
        help="changes per target transaction, whole source transactions (10000)",
    )
