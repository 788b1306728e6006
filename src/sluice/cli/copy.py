"""The `copy` command: argument parsing and printing only (the work is sluice.copy)."""

from __future__ import annotations

import argparse
import json
import sys

from sluice.cli import verify as cli_verify
from sluice.cli.cdc import add_cdc_options, start_for_copy
from sluice.cli.metrics import add_metrics_options
from sluice.cli.not_carried import add_fail_option, not_carried_dicts, summary_line
from sluice.cli.options import (
    add_chunk_options,
    add_endpoints,
    add_liveness_options,
    add_value_options,
    command,
    endpoints,
    objects_dict,
    parse_size,
    positive,
    print_failure,
    value_settings,
)


def add_copy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-cap", type=parse_size, metavar="SIZE", default="128MiB",
                   help="bytes buffered between readers and writers (default 128MiB)")  # fmt: skip
    p.add_argument("--workers", type=positive, default=4, help="chunks copied at once (4)")
    p.add_argument("--lock-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="how long a publish waits for another session's lock on a table "
                        "before failing, naming that session (default 60)")  # fmt: skip
    add_chunk_options(p)
    add_value_options(p)
    add_liveness_options(p)
    add_metrics_options(p)
    add_fail_option(p)


def copy_options(args: argparse.Namespace):
    """The copy's options from its flags (or a job's keys: cli/jobfile.py)."""
    from sluice.copy import CopyOptions

    return CopyOptions(
        memory_cap=args.memory_cap,
        workers=args.workers,
        chunk_rows=args.chunk_rows,
        chunk_bytes=args.chunk_size,
        lock_timeout=args.lock_timeout,
        resume=args.resume,
        fail_on_not_carried=args.fail_on_not_carried,
        **value_settings(args),
    )


def cmd_copy(args: argparse.Namespace) -> int:
    from sluice.copy import copy_database
    from sluice.core.interrupt import HARD_EXIT, on_signals
    from sluice.core.progress import Reporter

    source, target = endpoints(args)
    options = copy_options(args)
    if getattr(args, "cdc", False):
        start_for_copy(args, source, target, options)
    # Ctrl-C or SIGTERM: stop at the next safe point, finish what was published, say so
    with on_signals(hard_exit=HARD_EXIT) as cancel:
        with Reporter() as reporter:
            result = copy_database(source, target, options, reporter, cancel)
        if result.interrupted:
            if result.errors:  # a chunk that failed while stopping: its one line
                print_failure(result.errors[0])
            print(f"interrupted: {result.state()}", file=sys.stderr)
            return 130
        return _after_copy(args, source, target, options, result, cancel)


def _after_copy(args, source, target, options, result, cancel) -> int:
    print_summary(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary_dict(result), fh, indent=2)
    if result.errors:  # one line: the first failure (the others went to the log)
        print_failure(result.errors[0])
        return result.errors[0].exit_code
    if not result.ok:
        return 1
    if (args.verify or args.repair) and cancel.cancelled:
        print("interrupted: the copy completed; verification not run", file=sys.stderr)
        return 130
    if args.verify or args.repair:
        from sluice.cli.verify import verify_and_report, verify_options

        checks = verify_options(args, args.workers)
        return verify_and_report(source, target, checks, args.repair, options, args.report,
                                 cancel, result.refused)  # fmt: skip
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
                "finished": t.finished,
                "nul_changed": t.nul_changed,
                "zero_dates": t.zero_dates,
            }
            for t in result.tables.values()
        },  # fmt: skip
        "nul_changed": result.nul_changed,
        "zero_dates": result.zero_dates,
        "zero_dates_stored_as": result.zero_dates_as,
        "next_identity": result.finish.identities if result.finish else {},
        "orphans": result.finish.orphans if result.finish else {},
        "outside_foreign_keys": result.finish.outside if result.finish else {},
        "resumed": bool(result.rows_kept),
        "rows_copied": result.rows_copied,
        "rows_kept": result.rows_kept,
        "failures": result.failures,
        "skipped": [{"table": s.table, "reason": s.reason} for s in result.plan.skipped],
        **objects_dict(result.plan.views, result.plan.sequences, result.objects),
        "not_carried": not_carried_dicts(result.plan.not_carried),
    }


MB_NOTE = ("MB read: raw paths count the COPY/CSV stream's bytes, decoded paths the decoded "
           "values' size in memory (an estimate); the two measures differ")  # fmt: skip


def print_summary(result, file=None, width: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table as Grid

    grid = Grid(title=f"copy {'complete' if result.ok else 'FAILED'} in {result.seconds:.1f}s")
    for col in ("table", "rows", "MB read", "path", "chunks", "status"):
        grid.add_column(col, justify="left" if col in ("table", "path", "status") else "right")
    paths = {t.name: t.passthrough for t in result.plan.tables}
    total_rows = total_bytes = 0
    for t in result.tables.values():
        total_rows += t.rows
        total_bytes += t.bytes
        status = "published" if t.published else "[red]not published (untouched)"
        if t.published and not t.finished:
            status = "[red]published, not finished"
        if t.kept:
            status += f" ({t.kept:,} row(s) kept from the interrupted copy)"
        if t.decoded_again:
            status += f" ({t.decoded_again} chunk(s) copied as values: see the warnings)"
        if t.nul_changed:
            status += f" ({t.nul_changed:,} value(s) with NUL changed by --nul)"
        if t.zero_dates:
            status += (f" ({t.zero_dates:,} zero date(s) stored as {result.zero_dates_as} by "
                       "--zero-dates)")  # fmt: skip
        path = "raw" if paths.get(t.name) else "decoded"
        if paths.get(t.name) and t.decoded_again:
            path = "raw+decoded"
        grid.add_row(t.name, f"{t.rows:,}", f"{t.bytes / 1e6:,.1f}", path, str(t.chunks), status)
    rate = total_rows / result.seconds if result.seconds else 0
    grid.add_row("[bold]total", f"[bold]{total_rows:,}", f"{total_bytes / 1e6:,.1f}", "", "",
                 f"{rate:,.0f} rows/s")  # fmt: skip
    console = Console(file=file or sys.stdout, width=width)
    console.print(grid)
    console.print(MB_NOTE, style="dim", highlight=False)
    from sluice.cli.options import print_objects, print_skipped

    print_skipped(console, result.plan.skipped)
    print_objects(console, result.plan.views, result.plan.sequences, result.objects)
    if result.plan.not_carried:
        console.print(summary_line(result.plan.not_carried), markup=False, highlight=False,
                      soft_wrap=True)  # fmt: skip
    if result.nul_changed:
        print(f"note: {result.nul_changed:,} text value(s) held NUL (U+0000) and were changed "
              "by the --nul policy")  # fmt: skip
    if result.zero_dates:
        how = result.zero_dates_as
        print(f"note: {result.zero_dates:,} MySQL zero date(s) ('0000-00-00' and the like) were "
              f"stored as {how} by --zero-dates {how.lower()}")  # fmt: skip
    if result.resume_note:
        print(resume_line(result))
    if result.finish:
        for fk, n in result.finish.orphans.items():
            if n:
                print(f"warning: {fk}: {n} orphan row(s); the key was added but not validated")
        for fk, why in result.finish.outside.items():  # keys to tables outside the copy
            made = why == "created"
            print(f"foreign key {fk} to a table outside the copy: "
                  + ("created" if made else f"NOT created: {why}"))  # fmt: skip
    said = set(result.finish.outside) if result.finish else set()
    for t in result.tables.values():  # keys a publish could not make (or make again)
        for fk, why in t.keys_not_made.items():
            if fk not in said and not (result.finish and fk in result.finish.orphans):
                print(f"warning: foreign key {fk} (on or to {t.name}) not made: {why}")


def resume_line(result) -> str:
    """What --resume did, in one line: rows kept and copied, and what proves the result."""
    if not result.rows_kept:
        return f"resume: {result.resume_note}"
    kept_chunks = sum(t.kept_chunks for t in result.tables.values())
    return (
        f"resume: {result.rows_copied:,} row(s) copied by this run, {result.rows_kept:,} "
        f"kept from the interrupted copy ({kept_chunks} committed chunk(s) and the tables "
        "it had published); rows changed in the source between the runs are not seen: "
        "`sluice verify` is the proof"
    )


def register(sub: argparse._SubParsersAction) -> None:
    cp = command(
        sub,
        "copy",
        cmd_copy,
        "copy whole tables from source to target: staged, verified counts, atomic publish",
        "sluice copy --source postgresql://pg/src --target postgresql://pg/dst --workers 4",
    )
    add_endpoints(cp)
    add_copy_options(cp)
    cp.add_argument("--json", metavar="FILE", help="also write the summary as JSON to FILE")
    cp.add_argument("--resume", dest="resume", action="store_true",
                    help="continue an interrupted copy of the same plan from the chunks it "
                         "committed (a static source or a snapshot: verify is the proof); "
                         "this run keeps its own staging if stopped")  # fmt: skip
    cp.add_argument("--verify", action="store_true",
                    help="verify checksums per key range right after publishing")  # fmt: skip
    cli_verify.add_verify_options(cp, prefix="verify-")
    add_cdc_options(
        cp,
        "start change capture before the first chunk is read; `sync --cdc` "
        "then applies the log (docs/cdc.md)",
    )
