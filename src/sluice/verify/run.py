"""Verify a replica: row counts and a canonical checksum per key range, on both sides.

Each key range is read from the source and from the target at the same time, every
row encoded canonically (`sluice.verify.canonical`) and hashed; a range matches when both
sides hold the same number of rows with the same sum of row digests. Ranges are
independent, so they run in parallel, and a mismatch names the table and range.
With `rows=True` a mismatching range is read again and the differing keys named:
missing from the target, extra in it, or changed (with the columns that differ).

Values compare in the source column's domain (see `sluice.verify.canonical`): the target's
value is decoded back into the source type's domain, and one that does not round-trip differs.
The servers digest instead only when both tables' declared column types are identical.

Data-quality checks (`sluice.verify.quality`) run on the target alongside; a failing check of
severity "error" fails the verification like a mismatch does.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sluice.copy.masks import require_key
from sluice.copy.memory import deferred_collections
from sluice.copy.plan import INTEGER_KINDS, Chunk, Plan, TablePlan, build_plan
from sluice.copy.reflect import table_names
from sluice.copy.refusals import Selection
from sluice.copy.scope import landing_schemas_of, target_schema
from sluice.copy.staging import live_table
from sluice.copy.stalls import stalled_error
from sluice.copy.transfer import guard, retrying
from sluice.core.errors import ConfigError, SluiceError
from sluice.core.faults import chunk_part, where
from sluice.core.interrupt import (
    Cancel,
    Interrupted,
    completed,
    ignore_interrupts_in_child,
    sigint_blocked,
    stop_pool,
)
from sluice.core.liveness import DEFAULT_RETRY_DEADLINE, Timeouts
from sluice.core.schema import Table, qualified_key
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.verify.canonical import RangeDigest, server_text
from sluice.verify.figures import recorded
from sluice.verify.missing import missing_tables
from sluice.verify.objects import check_objects
from sluice.verify.quality import (
    CheckResult,
    QualityRules,
    drift_check,
    on_target,
    rules_for,
    run_checks,
)
from sluice.verify.results import RangeResult, TableVerification, VerifyReport, column_notes
from sluice.verify.rows import canonical_rows, differences, native_rows, watch_connection

log = logging.getLogger(__name__)

DEFAULT_VERIFY_ROWS = 100_000  # rows per verified range: a mismatch points this close


@dataclass(frozen=True)
class VerifyOptions:
    tables: Sequence[str] | None = None
    workers: int = 4
    chunk_rows: int = DEFAULT_VERIFY_ROWS
    rows: bool = False  # name the differing keys of mismatching ranges
    max_keys: int = 100  # keys listed per kind (missing/extra/changed) and range
    checks: bool = True
    native: bool = True  # let two same-engine tables of identical types digest in SQL
    # client-side digests in spawned worker processes instead of threads: about twice as fast
    # on two cores, but spawn re-imports the caller's __main__, so only a program whose main
    # module is guarded by `if __name__ == "__main__"` may ask (the sluice CLI does)
    processes: bool = False
    quality: QualityRules | None = None  # None: the shipped rules for known datasets
    source_rows: dict[str, int] | None = None  # drift checks' reference; default: counted
    allow_empty: bool = False  # a source without tables is verified (against the extras)
    # the copy's selection (sluice.copy.refusals): the same tables left out, the same way,
    # carried columns compared as the source's text
    exclude: Sequence[str] = ()
    skip_refused: bool = False
    carry_as_text: bool = False
    allow_lossy: bool | None = None
    # schemas read (names or patterns; none: every schema), left out, and renamed on the
    # target (source -> target); tables above are qualified keys or patterns (copy.scope)
    schemas: Sequence[str] = ()
    exclude_schemas: Sequence[str] = ()
    schema_map: Sequence[tuple[str, str]] = ()
    enums: str = "varchar"  # as CopyOptions.enums
    identifiers: str = "preserve"  # as CopyOptions.identifiers: the copy's must be given
    # row filters and column choices (copy.filters, docs/selection.md): (table, condition in
    # the source's SQL), "table.column" left out, ("table.column", "hash|null|fixed:VALUE")
    where: Sequence[tuple[str, str]] = ()
    exclude_columns: Sequence[str] = ()
    mask: Sequence[tuple[str, str]] = ()

    @property
    def selection(self) -> Selection:
        return Selection.of(self)

    # how long to wait on either server (None: what each URL carries; core/liveness), and
    # how long a range that keeps failing is retried from its first failure
    timeouts: Timeouts | None = None
    retry_deadline: float = DEFAULT_RETRY_DEADLINE

    def validate(self) -> None:
        problems = Timeouts.options_problems(self.timeouts, self.retry_deadline)
        if self.workers < 1:
            problems.append(f"workers must be >= 1, got {self.workers}")
        if self.chunk_rows < 1:
            problems.append(f"chunk rows must be >= 1, got {self.chunk_rows}")
        if self.max_keys < 1:
            problems.append(f"max keys must be >= 1, got {self.max_keys}")
        if problems:
            raise ConfigError("; ".join(problems))


@deferred_collections()
def verify_database(
    source: DbUrl,
    target: DbUrl,
    options: VerifyOptions = VerifyOptions(),
    cancel: Cancel | None = None,
) -> VerifyReport:
    """Plan key ranges over the source's tables, then verify them all (cancel: verify_plan)."""
    options.validate()
    source, target = source.with_timeouts(options.timeouts), target.with_timeouts(options.timeouts)
    plan = build_plan(source, target, tables=options.tables, chunk_rows=options.chunk_rows,
                      allow_empty=options.allow_empty, selection=options.selection)  # fmt: skip
    return verify_plan(plan, source, target, options, cancel=cancel)


def verify_plan(
    plan: Plan,
    source: DbUrl,
    target: DbUrl,
    options: VerifyOptions = VerifyOptions(),
    only: dict[str, list[Chunk]] | None = None,
    cancel: Cancel | None = None,
) -> VerifyReport:
    """Verify `plan`'s ranges (or just `only`'s, e.g. after a repair) of source against target.

    A set `cancel` raises `Interrupted` within a batch's time: queued ranges are dropped,
    thread workers stop at their next batch, worker processes are ended and joined."""
    options.validate()
    source, target = source.with_timeouts(options.timeouts), target.with_timeouts(options.timeouts)
    require_key([m for tp in plan.tables for m in tp.masks])  # a hash mask's secret, up front
    cancel = cancel or Cancel()
    stopped = "verification stopped, no report"
    if cancel.cancelled:
        raise Interrupted(f"interrupted ({cancel.reason}): {stopped}")
    started = time.monotonic()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    dst = get_dialect(target.engine)
    dst.require_database(target)  # verifying never creates the replica (SQLite would)
    tables = [t for t in plan.tables if only is None or t.name in only]
    missing = missing_tables(dst, target, tables, source)
    extra = []
    if options.tables is None and only is None:  # the whole source: the whole target too
        extra = _extra_tables(plan, source, target, options)
    work = [
        (tp, chunk)
        for tp in tables
        if tp.name not in missing
        for chunk in (only[tp.name] if only is not None else tp.chunks)
    ]
    setups = _setups(tables, missing, source, target, options)
    results: dict[str, list[RangeResult]] = {tp.name: [] for tp in tables}
    seconds: dict[str, float] = {tp.name: 0.0 for tp in tables}
    # the data-quality checks need only the target: they run alongside the ranges
    checks: dict[str, list[CheckResult]] = {}
    checker = None
    rules = options.quality or rules_for([tp.table for tp in tables])
    if options.checks:
        on = rules if options.quality else on_target(rules, tables)  # the dataset's: renamed
        args = (checks, tables, missing, target, on, options)
        checker = threading.Thread(target=_run_checks, args=args, daemon=True)
        checker.start()
    canonical = any(setups[tp.name].method == "canonical" for tp, _ in work)
    pool, processes = _executor(work, canonical, options)
    try:
        with sigint_blocked():  # spawned workers start with SIGINT blocked (see there)
            futures = [
                pool.submit(_verify_one, tp, chunk, source, target, options, setups[tp.name],
                            None if processes else cancel)
                for tp, chunk in _largest_first(work)
            ]  # fmt: skip
        for f in completed(futures, cancel, stopped):
            result = f.result()
            name = result.chunk.table
            results[name].append(result)
            seconds[name] = max(seconds[name], time.monotonic() - started)
            log.debug("%s: %s", result.chunk.label, "match" if result.ok else "MISMATCH")
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    verified = []
    for tp in tables:
        ranges = sorted(results[tp.name], key=lambda r: r.chunk.index)
        error = f"{tp.name}: missing in the target" if tp.name in missing else None
        method = setups[tp.name].method
        counted = missing.get(tp.name)
        landed = tp.target_key if tp.target_key != tp.name else None
        verified.append(TableVerification(tp.name, ranges, method, seconds[tp.name], error=error,
                                          counted_source_rows=counted, target=landed,
                                          missing=tp.name in missing))  # fmt: skip
    if checker is not None:
        checker.join()
        if "error" in checks:
            raise checks["error"][0]
        for tv in verified:
            tv.checks = checks.get(tv.name, []) + _drift(tv, rules, options.source_rows)
    lossy = tuple(f"{t}.{c.name}: {c.source_type} -> {c.target_type} ({c.note})"
                  for t, c in plan.lossy() if only is None or t in only)  # fmt: skip
    seconds = time.monotonic() - started
    return recorded(VerifyReport(str(source), str(target), stamp, seconds, verified, extra,
                                 plan.skipped, lossy, column_notes(tables),
                                 check_objects(plan, target, only), plan), target)  # fmt: skip


def _executor(work, canonical: bool, options: VerifyOptions) -> tuple[Executor, bool]:
    """Processes when rows are digested in Python (the encoding is CPU-bound and one process
    would hold the GIL), threads when the servers digest (native) or for a single worker.
    The flag says which. Worker processes ignore SIGINT: the parent decides and ends them."""
    if canonical and options.processes and options.workers > 1 and len(work) > 1:
        # spawn, not fork: this process already runs threads (the checks), and a forked
        # child would inherit their locks
        context = multiprocessing.get_context("spawn")
        workers = min(options.workers, len(work))
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=ignore_interrupts_in_child
        )
        return pool, True
    return ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="verify"), False


def _verify_one(
    tp: TablePlan, chunk: Chunk, source, target, options, setup, cancel: Cancel | None = None
) -> RangeResult:
    verify = functools.partial(_verify_range, tp, chunk, source, target, options, setup, cancel)
    try:
        return retrying(chunk, verify, None, 0.5, cancel, options.retry_deadline)[0]
    except SluiceError as exc:
        raise exc.with_facts(target_state="unchanged (verify only reads it)") from None


def _run_checks(out: dict, tables, missing, target: DbUrl, rules, options) -> None:
    """Every data-quality check; drift only against given counts (else see `_drift`)."""
    try:
        present = [tp.target for tp in tables if tp.name not in missing]
        source_key = {tp.target_key: tp.name for tp in tables}  # results name target keys
        for c in run_checks(target, present, rules, options.source_rows or {}):
            out.setdefault(source_key.get(c.table, c.table), []).append(c)
    except BaseException as exc:  # re-raised by the caller
        out["error"] = [exc]


def _drift(tv: TableVerification, rules: QualityRules, given: dict | None) -> list[CheckResult]:
    """Drift against the source rows the ranges counted, when the rules set a tolerance (and
    the caller gave no reference counts, which run_checks has compared already)."""
    tolerance = rules.for_table(tv.name).drift_tolerance
    if tolerance is None or given or tv.error is not None:
        return []
    return [drift_check(tv.name, tv.target_rows, tv.source_rows, tolerance)]


def _largest_first(work: list[tuple[TablePlan, Chunk]]) -> list[tuple[TablePlan, Chunk]]:
    return sorted(work, key=lambda w: -w[0].rows / max(1, len(w[0].chunks)))


def _extra_tables(plan: Plan, source: DbUrl, target: DbUrl, options: VerifyOptions) -> list[str]:
    """Target tables without a source counterpart, in every schema the selection can land
    in (`copy.scope.landing_schemas_of`), not only where the plan's tables land."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    selection = options.selection
    defaults = (src.url_schema(source), dst.url_schema(target))
    planned = {tp.target_key.lower() for tp in plan.tables}  # engines may fold case
    for s in plan.skipped:  # left out on purpose, and said: where each would land
        schema, dot, name = s.table.partition(".")
        if not dot:
            schema, name = None, s.table
        planned |= {
            s.table.lower(),
            qualified_key(target_schema(schema, selection, *defaults), name).lower(),
        }
    schemas = [*landing_schemas_of(src, source, selection, defaults[1]),
               *(tp.target_schema for tp in plan.tables)]  # fmt: skip
    if not dst.caps.schemas:
        schemas = [None]
    return sorted(n for n in table_names(target, schemas) if n.lower() not in planned)


# --- one range ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSetup:
    """How one table is compared: the method, per column the domain its values are encoded
    in (None: its neutral kind's), from the source's declared type, and whether non-key
    columns are read as the server's text (`canonical.server_text`)."""

    method: str
    domains: tuple[str | None, ...]
    as_text: bool = False
    masks: tuple[tuple[str, str], ...] = ()  # the source side's, applied before comparing

    def read_as(self, table: Table) -> Table:
        return server_text(table) if self.as_text else table


def method_for(
    tp: TablePlan, source: DbUrl, target: DbUrl, options: VerifyOptions, identical: bool
) -> str:
    """Digest in SQL ("native") when both engines share a server-side digest and both
    catalogs declare every column with the identical type: a row's text form is then an
    exact encoding of the source type's domain on both sides. Otherwise client-side over the
    canonical encoding in the source type's domain ("canonical")."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    shared = src.native_digest is not None and src.native_digest == dst.native_digest
    return "native" if options.native and shared and identical else "canonical"


def _setups(tables, missing, source: DbUrl, target: DbUrl, options) -> dict[str, TableSetup]:
    """Each table's declared column types, read once from both catalogs: the source's pick
    each column's comparison domain. Identical ones on both sides allow native digests, and,
    where the plan holds the engine's own declarations (`Dialect.render_native`, ADR 0013),
    a canonical comparison by the server's text of each non-key column: the one exact
    encoding of types no driver value holds (infinity, BC dates, ranges, extensions' types)."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    (theirs, src_text), (ours, dst_text) = (_declared(src, source, tables),
                                            _declared(dst, target, tables, missing))  # fmt: skip
    out = {}
    for tp in tables:
        there, here = theirs.get(tp.name), ours.get(tp.name)
        names = tp.table.column_names
        identical = (
            bool(there and here)
            and src_text == dst_text
            and all(
                there.get(c) is not None and there.get(c) == here.get(tp.target_column(c))
                for c in names
            )
        )
        as_text = identical and all(dst.render_native(c.type) is not None for c in tp.table.columns)
        domains = tuple(
            None
            if as_text and c not in tp.table.primary_key
            else src.verify_domains.get(str((there or {}).get(c, "")).strip().lower())
            for c in names
        )
        method = method_for(tp, source, target, options, identical and not tp.masks)
        # a masked table: the canonical method, the only one that can apply a Python mask
        as_text = as_text and method == "canonical" and not tp.masks
        out[tp.name] = TableSetup(method, domains, as_text, tuple(tp.masks))
    return out


def _declared(dialect, url: DbUrl, tables, missing=None) -> tuple[dict, str | None]:
    """Per table, its declared column types (`missing` given: the target's live tables), and
    the server's text encoding (`Dialect.text_encoding`): identical types in two encodings
    are not one text form."""
    conn = dialect.connect(url)
    try:
        encoding = dialect.text_encoding(conn)
        if missing is None:
            return {tp.name: dialect.declared_types(conn, tp.table) for tp in tables}, encoding
        live = [tp for tp in tables if tp.name not in missing]
        return {tp.name: dialect.declared_types(conn, live_table(dialect, tp.target))
                for tp in live}, encoding  # fmt: skip
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _verify_range(
    tp: TablePlan, chunk: Chunk, source: DbUrl, target: DbUrl, options, setup, cancel=None
) -> RangeResult:
    """Digest the range on both sides at once (the source in a helper thread)."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    if setup.method == "native":
        digest = _native_digest
    else:
        digest = functools.partial(_digest, domains=setup.domains, cancel=cancel)
    there: dict[str, Any] = {}
    table = setup.read_as(tp.table)
    theirs = functools.partial(digest, masks=setup.masks) if setup.masks else digest

    def source_side() -> None:
        try:
            there["digest"] = _sided("source", source, theirs, src, table, chunk)
        except BaseException as exc:  # re-raised in the calling thread
            there["error"] = exc

    helper = threading.Thread(target=source_side, name=f"verify-src-{chunk.label}", daemon=True)
    helper.start()
    try:
        mine = _sided("target", target, digest, dst, _landed(dst, tp, setup), chunk)
    finally:
        helper.join()
    if "error" in there:
        raise there["error"]
    result = RangeResult(chunk, there["digest"], mine)
    if not result.ok and options.rows and tp.key:
        _name_keys(result, tp, source, target, options.max_keys, setup)
    return result


def _landed(dst, tp: TablePlan, setup: TableSetup) -> Table:
    """The target's table as verification reads it: in its target schema."""
    return live_table(dst, setup.read_as(tp.target))


def _sided(side: str, url: DbUrl, digest, dialect, table, chunk: Chunk) -> RangeDigest:
    """`digest` of one side, its failure naming that side and its host."""
    try:
        return digest(dialect, url, table, chunk, side)
    except SluiceError as exc:
        raise exc.with_facts(side=side, host=where(url), table=chunk.table,
                             chunk=chunk_part(chunk.label, chunk.table)) from None  # fmt: skip


def _digest(dialect, url: DbUrl, table, chunk: Chunk, side=None, domains=None,
            cancel: Cancel | None = None, masks=()) -> RangeDigest:  # fmt: skip
    """The range's digest; a set `cancel` stops it within 4096 rows (thread workers)."""
    digest = RangeDigest()
    rows = canonical_rows(dialect, url, table, chunk, domains, side=side, masks=masks)
    for n, (_, d, _) in enumerate(rows):
        if cancel is not None and n % 4096 == 0:
            cancel.check(chunk.label)
        digest.add(d)
    return digest


def _native_digest(dialect, url: DbUrl, table, chunk: Chunk, side=None) -> RangeDigest:
    setup, sql, params = dialect.range_digest_sql(table, chunk.lo, chunk.hi)
    conn = guard(dialect, chunk, lambda: dialect.connect(url))
    watch = watch_connection(dialect, url, conn, side)
    try:

        def run():
            dialect.begin_read(conn)
            cur = conn.cursor()
            for stmt in setup:
                cur.execute(stmt)
            cur.execute(sql, dialect.bind(params))
            rows, total = cur.fetchone()
            conn.rollback()
            return RangeDigest(int(rows), int(total))

        try:
            return guard(dialect, chunk, run)
        except Exception:
            if watch.stalled:
                raise stalled_error(chunk, watch, url) from None
            raise
    finally:
        watch.close()
        with contextlib.suppress(Exception):
            conn.close()


# --- naming the differing keys ---------------------------------------------------------------


def _name_keys(result: RangeResult, tp: TablePlan, source, target, max_keys: int, setup) -> None:
    """Read the range again on both sides, by the method that found it differing, and sort
    its keys into missing, extra and changed (naming the columns that differ)."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    table = setup.read_as(tp.table)
    if setup.method == "native":
        left = native_rows(src, source, table, result.chunk)
        right = native_rows(dst, target, _landed(dst, tp, setup), result.chunk)
    else:
        left = canonical_rows(src, source, table, result.chunk, setup.domains, True, "source",
                              setup.masks)  # fmt: skip
        right = canonical_rows(
            dst, target, _landed(dst, tp, setup), result.chunk, setup.domains, True, "target"
        )
    integer = all(tp.table.column(k).type.kind in INTEGER_KINDS for k in tp.key)
    for kind, key, columns in differences(left, right, tp.table.column_names, integer):
        bucket = getattr(result, kind)
        if len(bucket) < max_keys:
            bucket.append(key)
            if columns:
                result.columns[key] = columns
