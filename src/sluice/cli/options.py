"""What several commands share: where the databases are (flag > environment > the embedded
PostgreSQL), option types (sizes, counts, scales) and option groups, and registering a
command with its help and runnable example."""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Callable

from sluice.core import embedded
from sluice.core.errors import ConfigError
from sluice.core.liveness import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRY_DEADLINE,
    DEFAULT_STALL_TIMEOUT,
    Timeouts,
)
from sluice.core.urls import DbUrl, from_env

log = logging.getLogger("sluice")


# One default source database: what `generate` and the demo write, what plan/copy read.
DEFAULT_DATABASE = embedded.SOURCE_DB


DEFAULT_SOURCE_DB = embedded.SOURCE_DB


DEFAULT_TARGET_DB = embedded.TARGET_DB


TARGET_HELP = "target database URL (default: $SLUICE_TARGET_URL, else the embedded PostgreSQL)"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)


_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "m": 1e6, "mb": 1e6,
          "mib": 1024**2, "g": 1e9, "gb": 1e9, "gib": 1024**3, "t": 1e12, "tb": 1e12,
          "tib": 1024**4}  # fmt: skip


def resolve_url(given: str | None, env: str, database: str) -> DbUrl:
    """Flag, else the environment variable `env`, else `database` on the embedded PostgreSQL
    (started when needed). One precedence for every command."""
    text = from_env(env, given)
    if text:
        return DbUrl.parse(text)
    url = embedded.start().with_database(database)
    log.info("no URL given (nor $%s): using the embedded PostgreSQL, database %r", env, database)
    return url


def table_list(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def exclude_list(text: str | None) -> tuple[str, ...]:
    """--exclude-tables A,B: table names or patterns, comma-separated (`schema.table`; a bare
    name is in the default schema: copy/scope.py)."""
    return tuple(table_list(text) or ())


def scope_settings(args: argparse.Namespace) -> dict:
    """--schemas, --exclude-schemas, --schema-map and --identifiers, as keyword arguments of
    CopyOptions, VerifyOptions, SyncOptions and `Selection`."""
    from sluice.copy.filters import parse_columns, parse_masks, parse_where
    from sluice.copy.scope import parse_schema_map

    return {
        "schemas": exclude_list(args.schemas),
        "exclude_schemas": exclude_list(args.exclude_schemas),
        "schema_map": parse_schema_map(args.schema_map or []),
        "identifiers": args.identifiers,
        "where": parse_where(getattr(args, "where", None) or []),
        "exclude_columns": parse_columns(getattr(args, "exclude_columns", None)),
        "mask": parse_masks(getattr(args, "mask", None) or []),
    }


def print_skipped(console, skipped) -> None:
    """'N tables skipped' and each with its reason: never a table left out unsaid."""
    if not skipped:
        return
    console.print(f"{len(skipped)} table(s) skipped:", markup=False, highlight=False)
    for s in skipped:
        console.print(f"  skipped {s.table}: {s.reason}", markup=False, highlight=False)


def print_objects(console, views, sequences, made=None) -> None:
    """Each view and sequence of the source: carried, or not carried with its reason and its
    source DDL (never one left out unsaid). `made`: a copy's `ObjectsResult`, whose target
    refusals count as not carried too."""
    refused = made.not_carried if made is not None else {}
    for kind, objs in (("view", views), ("sequence", sequences)):
        for o in objs:
            why = o.reason or refused.get(f"{kind} {o.key}", "")
            if not why:
                done = (
                    "made on the target" if made is not None else "carried (made after the tables)"
                )
                extra = f", next value {o.next_value}" if kind == "sequence" else ""
                console.print(f"{kind} {o.key}: {done}{extra}", markup=False, highlight=False)
                continue
            console.print(f"{kind} {o.key}: not carried: {why}", markup=False, highlight=False)
            for line in o.ddl.splitlines():
                console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)


def objects_dict(views, sequences, made=None) -> dict:
    """The same, for JSON: per kind, each key with its status, reason and source DDL."""
    refused = made.not_carried if made is not None else {}
    out: dict = {}
    for kind, objs in (("views", views), ("sequences", sequences)):
        out[kind] = [
            {"name": o.key, "carried": not (o.reason or refused.get(f"{kind[:-1]} {o.key}")),
             "reason": o.reason or refused.get(f"{kind[:-1]} {o.key}", ""), "ddl": o.ddl}
            for o in objs
        ]  # fmt: skip
    return out


def print_counts(target: DbUrl, counts: dict[str, int | None]) -> None:
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


def scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def parse_size(text: str) -> int:
    """'128MiB', '1GB', '500000' -> bytes."""
    m = _SIZE.match(text)
    unit = (m.group(2) or "").lower() if m else None
    if not m or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 128MiB, 1GiB, 500MB)")
    return int(float(m.group(1)) * _UNITS[unit])


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def command(
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


def add_endpoints(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        help=f"source URL (default: $SLUICE_SOURCE_URL, else embedded db {DEFAULT_SOURCE_DB})",
    )
    p.add_argument(
        "--target",
        help=f"target URL (default: $SLUICE_TARGET_URL, else embedded db {DEFAULT_TARGET_DB})",
    )
    p.add_argument("--tables", metavar="A,B",
                   help="only these tables: names or glob patterns, comma-separated; "
                        "schema.table outside the default schema (Users,sales.*); the others "
                        "are listed as skipped")  # fmt: skip
    p.add_argument("--schemas", metavar="A,B",
                   help="only these schemas (names or glob patterns; default: every schema "
                        "but the system's; on MySQL/MariaDB the URL's database, other "
                        "databases only when named here)")  # fmt: skip
    p.add_argument("--exclude-schemas", metavar="A,B",
                   help="leave these schemas out (names or patterns); their tables are listed "
                        "as skipped")  # fmt: skip
    p.add_argument("--schema-map", action="append", metavar="SRC=DST",
                   help="put source schema SRC's tables in target schema DST (repeatable or "
                        "comma-separated; an empty DST is the target's default schema; by "
                        "default each schema keeps its name, the default one maps to the "
                        "target's default)")  # fmt: skip
    p.add_argument("--identifiers", choices=("preserve", "lower", "snake"), default="preserve",
                   dest="identifiers",
                   help="target schema, table, column, key and index names: as the source "
                        "has them (preserve, default), lower-cased (lower) or snake_case "
                        "(snake: Posts.OwnerUserId -> posts.owner_user_id); verify and sync "
                        "must be given the copy's (docs/selection.md)")  # fmt: skip
    p.add_argument("--allow-empty", action="store_true",
                   help="accept a source without tables (by default an error: it is most often "
                        "a wrong URL)")  # fmt: skip
    p.add_argument(
        "--exclude-tables",
        metavar="A,B",
        help="leave these tables out (names or patterns, comma-separated; schema.table "
        "outside the default schema); listed as skipped",
    )
    p.add_argument("--where", action="append", metavar="'TABLE: CONDITION'",
                   help="only the rows of TABLE where CONDITION holds, in the source's own "
                        "SQL, ANDed into every read of it (repeatable; it runs with the "
                        "source's credentials, read-only): 'sales.orders: total > 0'",
                   )  # fmt: skip
    p.add_argument("--exclude-columns", metavar="T.C,...",
                   help="leave these columns out: neither read nor created on the target "
                        "(table.column, schema.table.column; not a primary-key column)",
                   )  # fmt: skip
    p.add_argument("--mask", action="append", metavar="T.C=HOW",
                   help="replace a column's values on the way: hash (keyed by $SLUICE_MASK_KEY, "
                        "same value -> same mask), null, or fixed:VALUE (repeatable)")  # fmt: skip
    p.add_argument("--skip-refused", action="store_true",
                   help="leave out the tables sluice refuses (a type the target lacks, a lossy "
                        "mapping without --allow-lossy, a value found while copying) and copy "
                        "the others; each is listed with its reason (by default a refusal "
                        "stops the command)")  # fmt: skip
    p.add_argument("--carry-as-text", action="store_true",
                   help="carry source types the target lacks or holds only lossily (PostgreSQL "
                        "arrays, inet, interval, ranges, hstore, timetz ...) as the source "
                        "server's own text of each value: exact, into a text column")  # fmt: skip
    p.add_argument("--enums", choices=("varchar", "type"), default="varchar",
                   help="a MariaDB ENUM as a varchar (default) or as an enum type made on a "
                        "PostgreSQL target, its members in order")  # fmt: skip
    p.add_argument("--collations", choices=("source", "target"), default="source",
                   help="column collations: the source's, or the target's equivalent where "
                        "the engines differ (source, default: a case-insensitive column stays "
                        "case-insensitive), or the target's default (target: each such column "
                        "listed as not carried; e.g. to keep LIKE on PostgreSQL < 18)")  # fmt: skip


def endpoints(args: argparse.Namespace):
    """The source and target URLs (flag > environment > embedded), never one database twice."""
    source = resolve_url(args.source, "SLUICE_SOURCE_URL", DEFAULT_SOURCE_DB)
    target = resolve_url(args.target, "SLUICE_TARGET_URL", DEFAULT_TARGET_DB)
    if source.render_secret() == target.render_secret():
        raise ConfigError("source and target are the same database")
    if hasattr(args, "stall_timeout"):  # the command takes the liveness options
        timeouts = Timeouts(args.connect_timeout, args.stall_timeout)
        source, target = source.with_timeouts(timeouts), target.with_timeouts(timeouts)
    return source, target


def seconds(text: str) -> float:
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def add_liveness_options(p: argparse.ArgumentParser) -> None:
    """How long to wait on a server (docs/reliability.md): copy, verify and sync."""
    helps = {
        "--connect-timeout": (DEFAULT_CONNECT_TIMEOUT, "give up connecting after this long"),
        "--stall-timeout": (DEFAULT_STALL_TIMEOUT, "drop a connection where no byte moved for "
                            "this long and retry its chunk on a new one"),
        "--retry-deadline": (DEFAULT_RETRY_DEADLINE, "retry a failing chunk (lost connection, "
                             "server restarting, deadlock) with backoff for up to this long "
                             "after its first failure"),
    }  # fmt: skip
    for flag, (default, text) in helps.items():
        p.add_argument(flag, type=seconds, default=default, metavar="SECONDS",
                       help=f"{text} ({default:g})")  # fmt: skip


def add_chunk_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chunk-rows", type=positive, metavar="N", default=250_000,
                   help="at most this many rows per key-range chunk (250000)")  # fmt: skip
    p.add_argument("--chunk-size", type=parse_size, metavar="SIZE", default="32MiB",
                   help="about this much of the source table per chunk (32MiB)")  # fmt: skip


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
    p.add_argument("--zero-dates", choices=("error", "null", "-infinity"), default="error",
                   help="MySQL zero dates ('0000-00-00', '2020-00-15') bound for an engine "
                        "without them: error (default: refuse, naming the rows), null or "
                        "-infinity (PostgreSQL only), counted in the summary")  # fmt: skip


def value_settings(args: argparse.Namespace) -> dict:
    """What copy and sync both take from their shared options (add_value_options, the
    selection and retry options), as keyword arguments of CopyOptions and SyncOptions."""
    return {
        "tables": table_list(args.tables),
        "allow_lossy": args.allow_lossy,
        "nul": args.nul,
        "nul_replacement": args.nul_replacement,
        "allow_empty": args.allow_empty,
        "zero_dates": args.zero_dates,
        "exclude": exclude_list(args.exclude_tables),
        "skip_refused": args.skip_refused,
        "carry_as_text": args.carry_as_text,
        "enums": args.enums,
        "collations": args.collations,
        "retry_deadline": args.retry_deadline,
        **scope_settings(args),
    }


def print_endpoints(console, source, target) -> None:
    """Source and target URLs each on a line of its own, never wrapped by rich: a URL copied
    from the terminal must stay whole (the terminal may still fold a very long one)."""
    from rich.text import Text

    console.print(Text(f"  source {source}"), soft_wrap=True)
    console.print(Text(f"  target {target}"), soft_wrap=True)


def print_failure(exc: BaseException) -> None:
    """The one line a person reads (`sluice.core.faults.failure_line`); the error's own text,
    the driver's words, goes to the log, shown with -v."""
    import logging
    import sys

    from sluice.core.faults import failure_line
    from sluice.core.urls import redact_all

    logging.getLogger("sluice").debug("failure detail: %s", redact_all(str(exc)))
    print(f"error: {failure_line(exc)}", file=sys.stderr)
