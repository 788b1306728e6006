"""The `verify` command, and the verify/repair steps `copy --verify --repair` adds."""

from __future__ import annotations

import argparse
import sys

from sluice.cli.metrics import add_metrics_options
from sluice.cli.options import (
    add_endpoints,
    add_liveness_options,
    command,
    endpoints,
    exclude_list,
    parse_size,
    positive,
    print_endpoints,
    print_skipped,
    scope_settings,
    table_list,
)


def add_verify_options(p: argparse.ArgumentParser, prefix: str = "") -> None:
    """Options shared by `verify` and `copy --verify` (the latter prefixes --verify-)."""
    p.add_argument(f"--{prefix}chunk-rows", dest="verify_chunk_rows", type=positive,
                   metavar="N", default=100_000,
                   help="rows per verified key range (100000)")  # fmt: skip
    p.add_argument("--rows", action="store_true",
                   help="name the differing keys (missing, extra, changed)")  # fmt: skip
    p.add_argument("--repair", action="store_true",
                   help="re-copy only the ranges that differ, then verify them again")  # fmt: skip
    p.add_argument("--checks", metavar="FILE",
                   help="data-quality rules (JSON or YAML); default: shipped rules")  # fmt: skip
    p.add_argument("--no-checks", action="store_true", help="skip the data-quality checks")
    p.add_argument("--canonical", action="store_true",
                   help="always digest client-side, even where the servers could")  # fmt: skip
    p.add_argument("--report", metavar="FILE", action="append", default=[],
                   help="write the report to FILE: .json, .md or .html (repeatable)")  # fmt: skip


def verify_options(args: argparse.Namespace, workers: int):
    from sluice.verify import VerifyOptions
    from sluice.verify.quality import load_rules

    return VerifyOptions(
        tables=table_list(args.tables),
        workers=workers,
        chunk_rows=args.verify_chunk_rows,
        rows=args.rows,
        checks=not args.no_checks,
        native=not args.canonical,
        processes=True,  # this command's main module is guarded: spawn is safe here
        quality=load_rules(args.checks) if args.checks else None,
        allow_empty=args.allow_empty,
        exclude=exclude_list(args.exclude_tables),
        skip_refused=args.skip_refused,
        carry_as_text=args.carry_as_text,
        enums=args.enums,
        allow_lossy=getattr(args, "allow_lossy", False),
        retry_deadline=args.retry_deadline,
        **scope_settings(args),
    )


def cmd_verify(args: argparse.Namespace) -> int:
    from sluice.copy import CopyOptions
    from sluice.core.interrupt import HARD_EXIT, on_signals

    source, target = endpoints(args)
    copy = CopyOptions(memory_cap=args.memory_cap, workers=args.workers,
                       retry_deadline=args.retry_deadline)  # fmt: skip
    reports = args.report + ([args.json] if args.json else []) + ([args.html] if args.html else [])
    with on_signals(hard_exit=HARD_EXIT) as cancel:  # Interrupted: one line, exit 130
        return verify_and_report(source, target, verify_options(args, args.workers),
                                 args.repair, copy, reports, cancel)  # fmt: skip


def verify_and_report(
    source, target, options, repair: bool, copy, reports: list[str], cancel=None, skipped=()
) -> int:
    """Verify (and repair), print the table, write the reports; exit code 0 only when clean.
    A set `cancel` stops it with `Interrupted` (nothing printed, no report written).
    `skipped`: tables the copy left out for a refused value, left out here too."""
    from sluice.copy.plan import build_plan
    from sluice.verify import verify_plan
    from sluice.verify.report import write_report

    options.validate()
    plan = build_plan(source, target, tables=options.tables, chunk_rows=options.chunk_rows,
                      allow_empty=options.allow_empty,
                      selection=options.selection).without(skipped)  # fmt: skip
    report = verify_plan(plan, source, target, options, cancel=cancel)
    print_report(report)
    if repair and not report.ok:
        from sluice.verify.repair import repair as run_repair

        fixed = run_repair(plan, report, source, target, copy, options)
        if fixed.ranges:
            print(
                f"repair: re-copied {fixed.ranges} range(s), {fixed.rows:,} rows; verified again:"
            )
            report = _merge(report, fixed.after)
            print_report(report)
    for path in reports:
        write_report(report.to_dict(), path)
        print(f"report written to {path}")
    return 0 if report.ok else 1


def _merge(before, after):
    """The first report with the re-verified ranges of `after` in place of the old ones."""
    for t in after.tables:
        old = before.table(t.name)
        fresh = {r.chunk.index: r for r in t.ranges}
        old.ranges = [fresh.get(r.chunk.index, r) for r in old.ranges]
    return before


def print_report(report, file=None, width: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table as Grid

    verdict = "MATCH" if report.ok else "MISMATCH"
    console = Console(file=file or sys.stdout, width=width)
    console.print(f"[bold]verify: {verdict}[/] ({report.seconds:.1f}s)")
    print_endpoints(console, report.source, report.target)
    grid = Grid()
    left = ("table", "checks", "method", "result")
    for col in ("table", "source rows", "target rows", "ranges", "checks", "method", "result"):
        # a table's qualified name is never cut: it folds (sales.orders, not sales.ord…)
        grid.add_column(col, justify="left" if col in left else "right",
                        overflow="fold" if col == "table" else "ellipsis")  # fmt: skip
    for t in report.tables:
        failing = [c for c in t.checks if not c.passed]
        errors = sum(c.severity == "error" for c in failing)
        checks = f"{len(t.checks) - len(failing)} passed"
        if failing:
            checks += f", {errors} error(s), {len(failing) - errors} warning(s)"
        matching = f"{len(t.ranges) - len(t.mismatches)}/{len(t.ranges)}"
        result = "ok" if t.ok else "[red]MISMATCH"
        if t.missing:  # the source's rows are what it lacks: the "source rows" column
            result = "[red]missing"
        elif t.error:
            result = f"[red]{t.error}"
        grid.add_row(t.name, f"{t.source_rows:,}", f"{t.target_rows:,}", matching, checks,
                     t.method, result)  # fmt: skip
    console.print(grid)
    print_skipped(console, report.skipped)
    for line in report.lossy:
        console.print(f"lossy (copied with --allow-lossy, may differ): {line}", markup=False,
                      highlight=False)  # fmt: skip
    for line in report.columns:
        console.print(f"compared: {line}", markup=False, highlight=False, soft_wrap=True)
    for o in report.objects:  # views and sequences: compared, or not carried and why
        head = "mismatch: " if not o.ok else ""
        console.print(f"{head}{o.kind} {o.name}: {o.status}" + (f": {o.detail}" if o.detail
                      else ""), markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    if report.extra_tables:
        console.print(f"mismatch: the target holds {len(report.extra_tables)} table(s) the source "
                      f"does not (never compared): {', '.join(report.extra_tables)}",
                      markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    for t in report.tables:
        for r in t.mismatches:
            line = f"mismatch: {r.chunk.label}: source {r.source.rows:,} rows, target "
            line += f"{r.target.rows:,} rows"
            for kind in ("missing", "extra", "changed"):
                keys = getattr(r, kind)
                if keys:
                    shown = ", ".join(_key(k, r.columns) for k in keys[:20])
                    line += f"; {kind}: {shown}" + (" ..." if len(keys) > 20 else "")
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        for c in t.checks:
            if not c.passed:
                where = f"{c.table}.{c.column}" if c.column else c.table
                console.print(f"check {c.severity}: {c.check} {where}: {c.detail}", markup=False,
                              highlight=False, soft_wrap=True)  # fmt: skip


def _key(key: tuple, columns: dict) -> str:
    """A key as printed, with the columns that differ for a changed row: `7 (flag, note)`."""
    text = str(key[0] if len(key) == 1 else key)
    return f"{text} ({', '.join(columns[key])})" if key in columns else text


def register(sub: argparse._SubParsersAction) -> None:
    ver = command(
        sub,
        "verify",
        cmd_verify,
        "prove a replica: row counts and canonical checksums per key range, data-quality checks",
        "sluice verify --source postgresql://pg/src --target postgresql://pg/dst --html v.html",
    )
    add_endpoints(ver)
    ver.add_argument("--workers", type=positive, default=4,
                     help="key ranges verified at once (4)")  # fmt: skip
    ver.add_argument("--memory-cap", type=parse_size, metavar="SIZE", default="128MiB",
                     help="with --repair: the copy's memory cap (128MiB)")  # fmt: skip
    add_verify_options(ver)
    ver.add_argument("--allow-lossy", action="store_true",
                     help="with --skip-refused: verify tables with lossy mappings (copied with "
                          "--allow-lossy) instead of skipping them")  # fmt: skip
    add_liveness_options(ver)
    add_metrics_options(ver)
    ver.add_argument("--json", metavar="FILE", help="write the report as JSON to FILE")
    ver.add_argument("--html", metavar="FILE", help="write a readable report as HTML to FILE")
