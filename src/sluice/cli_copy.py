"""The `plan` and `copy` commands: argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import re
import sys

from sluice.cli import _tables, resolve_url
from sluice.errors import ConfigError

DEFAULT_SOURCE_DB = "stackoverflow2010"
DEFAULT_TARGET_DB = "stackoverflow_target"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "m": 1e6, "mb": 1e6,
          "mib": 1024**2, "g": 1e9, "gb": 1e9, "gib": 1024**3, "t": 1e12, "tb": 1e12,
          "tib": 1024**4}  # fmt: skip


def parse_size(text: str) -> int:
    """'128MiB', '1GB', '500000' -> bytes."""
    m = _SIZE.match(text)
    unit = (m.group(2) or "").lower() if m else None
    if not m or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 128MiB, 1GiB, 500MB)")
    return int(float(m.group(1)) * _UNITS[unit])


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_endpoints(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        help=f"source URL (default: $SLUICE_SOURCE_URL, else embedded db {DEFAULT_SOURCE_DB})",
    )
    p.add_argument(
        "--target",
        help=f"target URL (default: $SLUICE_TARGET_URL, else embedded db {DEFAULT_TARGET_DB})",
    )
    p.add_argument("--tables", help="comma-separated subset, e.g. Users,Posts")


def add_copy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-cap", type=parse_size, default="128MiB",
                   help="bytes buffered between readers and writers (default 128MiB)")  # fmt: skip
    p.add_argument("--workers", type=_positive, default=4, help="chunks copied at once (4)")
    add_chunk_options(p)
    add_value_options(p)


def add_value_options(p: argparse.ArgumentParser) -> None:
    """What may happen to values on the way: shared by copy and sync."""
    p.add_argument("--allow-lossy", action="store_true",
                   help="accept conversions the plan flags as lossy")  # fmt: skip
    p.add_argument("--nul", choices=("error", "strip", "replace"), default="error",
                   help="NUL (U+0000) in text bound for PostgreSQL, whose text cannot hold it: "
                        "error (default: refuse, naming the rows), strip, or replace "
                        "(counted in the summary)")  # fmt: skip
    p.add_argument("--nul-replacement", default="\ufffd", metavar="TEXT",
                   help="what --nul replace puts for each NUL (default U+FFFD)")  # fmt: skip


def add_chunk_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chunk-rows", type=_positive, default=250_000,
                   help="at most this many rows per key-range chunk (250000)")  # fmt: skip
    p.add_argument("--chunk-size", type=parse_size, default="32MiB",
                   help="about this much of the source table per chunk (32MiB)")  # fmt: skip


def endpoints(args: argparse.Namespace):
    """The source and target URLs (flag > environment > embedded), never one database twice."""
    source = resolve_url(args.source, "SLUICE_SOURCE_URL", DEFAULT_SOURCE_DB)
    target = resolve_url(args.target, "SLUICE_TARGET_URL", DEFAULT_TARGET_DB)
    if source.render_secret() == target.render_secret():
        raise ConfigError("source and target are the same database")
    return source, target


def cmd_plan(args: argparse.Namespace) -> int:
    from sluice.plan import build_plan

    source, target = endpoints(args)
    plan = build_plan(
        source, target, tables=_tables(args.tables),
        chunk_rows=args.chunk_rows, chunk_bytes=args.chunk_size,
    )  # fmt: skip
    if args.json:
        print(plan.to_json())
    else:
        print_plan(plan)
    return 0


def print_plan(plan, file=None) -> None:
    from rich.console import Console
    from rich.table import Table as Grid

    console = Console(file=file or sys.stdout, width=120)
    console.print(f"[bold]plan[/] {plan.source} -> {plan.target}")
    order = Grid(title="tables, in copy order")
    for col in ("#", "table", "~rows", "key", "identity", "chunks", "path"):
        order.add_column(col, justify="right" if col in ("#", "~rows", "chunks") else "left")
    for i, t in enumerate(plan.tables, 1):
        ident = t.table.identity.name if t.table.identity else "-"
        path = "decoded"
        if t.passthrough:
            path = "raw CSV -> LOAD DATA" if t.raw_format == "csv" else "raw COPY passthrough"
        key = ", ".join(t.key) or "(none)"
        order.add_row(str(i), t.name, f"{t.rows:,}", key, ident, str(len(t.chunks)), path)
    console.print(order)
    cols = Grid(title="columns: source type -> target type")
    for col in ("table", "column", "source", "target", "cast", "note"):
        cols.add_column(col)
    from sluice.dialects import get_dialect

    src, dst = get_dialect(plan.source_engine), get_dialect(plan.target_engine)
    for t in plan.tables:
        for c in t.columns:
            flag = {"lossy": "[red]lossy", "widening": "[yellow]widening"}.get(c.fidelity, "exact")
            source_type, target_type = c.source_type, c.target_type
            if t.table.column(c.name).identity:
                source_type += f" {src.identity_clause()}".rstrip()
                target_type += f" {dst.identity_clause()}".rstrip()
            cols.add_row(t.name, c.name, source_type, target_type, flag, c.note)
    console.print(cols)
    for fk in plan.foreign_keys:
        console.print(f"foreign key (created after the data): {fk.name}")
    for note in plan.notes:
        console.print(f"note: {note}")


def cmd_copy(args: argparse.Namespace) -> int:
    from sluice.copy import CopyOptions, copy_database
    from sluice.progress import Reporter

    source, target = endpoints(args)
    options = CopyOptions(
        tables=_tables(args.tables),
        memory_cap=args.memory_cap,
        workers=args.workers,
        chunk_rows=args.chunk_rows,
        chunk_bytes=args.chunk_size,
        allow_lossy=args.allow_lossy,
        nul=args.nul,
        nul_replacement=args.nul_replacement,
    )
    with Reporter() as reporter:
        result = copy_database(source, target, options, reporter)
    print_summary(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary_dict(result), fh, indent=2)
    for failure in result.failures:
        print(f"error: {failure}", file=sys.stderr)
    if not result.ok:
        return 1
    if args.verify or args.repair:
        from sluice.cli_verify import verify_and_report, verify_options

        checks = verify_options(args, args.workers)
        return verify_and_report(source, target, checks, args.repair, options, args.report)
    return 0


def summary_dict(result) -> dict:
    return {
        "ok": result.ok,
        "seconds": round(result.seconds, 3),
        "peak_buffered_bytes": result.peak_buffered,
        "tables": {
            t.name: {
                "rows": t.rows,
                "bytes": t.bytes,
                "chunks": t.chunks,
                "published": t.published,
                "nul_changed": t.nul_changed,
            }
            for t in result.tables.values()
        },  # fmt: skip
        "nul_changed": result.nul_changed,
        "next_identity": result.finish.identities if result.finish else {},
        "orphans": result.finish.orphans if result.finish else {},
        "failures": result.failures,
    }


def print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table as Grid

    grid = Grid(title=f"copy {'complete' if result.ok else 'FAILED'} in {result.seconds:.1f}s")
    for col in ("table", "rows", "MB", "chunks", "status"):
        grid.add_column(col, justify="left" if col in ("table", "status") else "right")
    total_rows = total_bytes = 0
    for t in result.tables.values():
        total_rows += t.rows
        total_bytes += t.bytes
        status = "published" if t.published else "[red]not published"
        if t.decoded_again:
            status += f" ({t.decoded_again} chunk(s) copied as values: see the warnings)"
        if t.nul_changed:
            status += f" ({t.nul_changed:,} value(s) with NUL changed by --nul)"
        grid.add_row(t.name, f"{t.rows:,}", f"{t.bytes / 1e6:,.1f}", str(t.chunks), status)
    rate = total_rows / result.seconds if result.seconds else 0
    grid.add_row("[bold]total", f"[bold]{total_rows:,}", f"{total_bytes / 1e6:,.1f}", "",
                 f"{rate:,.0f} rows/s")  # fmt: skip
    Console(width=100).print(grid)
    if result.nul_changed:
        print(f"note: {result.nul_changed:,} text value(s) held NUL (U+0000) and were changed "
              "by the --nul policy")  # fmt: skip
    if result.finish:
        for fk, n in result.finish.orphans.items():
            if n:
                print(f"warning: {fk}: {n} orphan row(s); the key was added but not validated")
