"""`copy_database`: plan -> prepare -> copy chunks (parallel) -> publish -> finish.

This function only chains the stages; each lives in its own module and can be
called on its own (the Airflow tasks do exactly that). A table is published as
soon as its last chunk lands, so big and small tables overlap.

A run stops early when its `Cancel` is set (a signal, the caller) or a chunk fails:
queued chunks are dropped, running ones stop at their next batch, no new publish starts
(one already swapping commits or rolls back), staging tables are dropped, and the tables
that were published are finished. Every table is then either as it was or published
and finished; `CopyResult.state()` says which.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

from sluice.copy import outcome, resume
from sluice.copy.buffer import ByteBudget
from sluice.copy.finish import FinishResult
from sluice.copy.masks import require_key
from sluice.copy.memory import deferred_collections, tune_allocator
from sluice.copy.not_carried import refuse_not_carried
from sluice.copy.objects import ObjectsResult, recreate_objects
from sluice.copy.outcome import target_state
from sluice.copy.plan import DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS, Plan, build_plan
from sluice.copy.publish import DEFAULT_LOCK_TIMEOUT, drop_leftovers, target_fault
from sluice.copy.refusals import CHOICES, Selection, Skipped, reasons_by_table
from sluice.copy.retried import finish_retried, publish_retried
from sluice.copy.snapshot import shared_snapshot
from sluice.copy.transfer import ChunkResult, TransferOptions, copy_chunk
from sluice.core import metrics
from sluice.core.errors import ConfigError, DataError, SluiceError, TerminalError
from sluice.core.faults import where
from sluice.core.hostile import NulPolicy, zero_dates_problem
from sluice.core.interrupt import Cancel, Interrupted
from sluice.core.liveness import DEFAULT_RETRY_DEADLINE, Timeouts
from sluice.core.naming import POLICIES
from sluice.core.progress import Reporter
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

log = logging.getLogger(__name__)

DEFAULT_MEMORY_CAP = 128 * 1024 * 1024


@dataclass(frozen=True)
class CopyOptions:
    tables: Sequence[str] | None = None
    memory_cap: int = DEFAULT_MEMORY_CAP
    workers: int = 4
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    batch_rows: int = 5_000
    retries: int | None = None  # a cap on a chunk's retries; None: the deadline alone
    # seconds a failing chunk keeps being retried from its first failure (a server restart
    # inside it is survived), and how long to wait on either server (None: what each URL
    # carries, by default 10 s to connect and 60 s without a byte moving; core/liveness)
    retry_deadline: float = DEFAULT_RETRY_DEADLINE
    timeouts: Timeouts | None = None
    allow_lossy: bool = False
    # U+0000 in text bound for an engine whose text cannot hold it (PostgreSQL): "error"
    # refuses the table naming the rows; "strip" or "replace" (by `nul_replacement`) change
    # the values and count them in the result (ADR 0011)
    nul: str = "error"
    nul_replacement: str = "\ufffd"
    allow_empty: bool = False  # a source without tables copies nothing instead of failing
    # MySQL zero dates ('0000-00-00') bound for an engine without them: "error" refuses the
    # table naming the rows; "null" stores NULL and counts them in the result
    zero_dates: str = "error"
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # seconds a publish waits for another's lock
    # tables left out by name, refused tables skipped (named with their reasons), types the
    # target lacks carried as the source's text (sluice.copy.refusals)
    exclude: Sequence[str] = ()
    skip_refused: bool = False
    carry_as_text: bool = False
    # schemas read (names or patterns; none: every schema), left out, and renamed on the
    # target (source -> target); tables above are qualified keys or patterns (copy.scope)
    schemas: Sequence[str] = ()
    exclude_schemas: Sequence[str] = ()
    schema_map: Sequence[tuple[str, str]] = ()
    enums: str = "varchar"  # a MariaDB ENUM as a varchar, or "type": a PostgreSQL enum
    collations: str = "source"  # "source" or "target" (Selection.collations)
    identifiers: str = "preserve"  # target names: "preserve", "lower" or "snake" (ADR 0017)
    # row filters and column choices (copy.filters, docs/selection.md): (table, condition in
    # the source's SQL), "table.column" left out, ("table.column", "hash|null|fixed:VALUE")
    where: Sequence[tuple[str, str]] = ()
    exclude_columns: Sequence[str] = ()
    mask: Sequence[tuple[str, str]] = ()
    # continue from the chunks an interrupted run of the same plan committed (copy.resume),
    # and keep this run's staging tables and ledger if it stops or fails
    resume: bool = False
    fail_on_not_carried: bool = False  # stop before any table when the plan lists any

    @property
    def selection(self) -> Selection:
        return Selection.of(self)

    def validate(self) -> None:
        problems = NulPolicy(self.nul, self.nul_replacement, self.zero_dates).validate()
        problems += Timeouts.options_problems(self.timeouts, self.retry_deadline)
        for name, allowed in CHOICES.items():  # --enums, --collations
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}, "
                                f"got {getattr(self, name)!r}")  # fmt: skip
        if self.identifiers not in POLICIES:
            problems.append(f"identifiers must be one of {', '.join(POLICIES)}, "
                            f"got {self.identifiers!r}")  # fmt: skip
        if self.workers < 1:
            problems.append(f"workers must be >= 1, got {self.workers}")
        if self.memory_cap < 1024 * 1024:
            problems.append(f"memory cap must be at least 1MiB, got {self.memory_cap} bytes")
        if self.chunk_rows < 1:
            problems.append(f"chunk rows must be >= 1, got {self.chunk_rows}")
        if self.chunk_bytes < 1:
            problems.append(f"chunk bytes must be >= 1, got {self.chunk_bytes}")
        if self.batch_rows < 1:
            problems.append(f"batch rows must be >= 1, got {self.batch_rows}")
        if not self.lock_timeout > 0:
            problems.append(f"lock timeout must be > 0 seconds, got {self.lock_timeout}")
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass
class TableSummary:
    name: str
    rows: int = 0
    bytes: int = 0
    chunks: int = 0
    seconds: float = 0.0
    published: bool = False
    decoded_again: int = 0  # chunks whose raw bytes the target rejected, copied as values
    nul_changed: int = 0  # values whose NUL characters were stripped or replaced (--nul)
    zero_dates: int = 0  # MySQL zero dates stored as NULL or -infinity (--zero-dates)
    kept: int = 0  # rows an interrupted run committed, kept by --resume (in `rows` too)
    kept_chunks: int = 0
    finished: bool = False  # identity aligned and keys made (by its publish or the finish step)
    keys_not_made: dict[str, str] = field(default_factory=dict)  # key -> why (its publish)


@dataclass
class CopyResult:
    plan: Plan
    tables: dict[str, TableSummary]
    finish: FinishResult | None
    seconds: float
    peak_buffered: int = 0
    failures: list[str] = field(default_factory=list)  # each failure's detail (for the log)
    # the same failures as errors carrying their facts: `sluice.core.faults.failure_line`
    errors: list[SluiceError] = field(default_factory=list)
    interrupted: bool = False  # the caller's Cancel stopped the run before every table was done
    # tables skipped mid-copy for a value the target cannot hold (--skip-refused); also in
    # plan.skipped, with the plan's own skips
    refused: tuple[Skipped, ...] = ()
    zero_dates_as: str = "NULL"  # what the counted zero dates were stored as (--zero-dates)
    resume_note: str = ""  # what --resume found, one line ("" without --resume)
    kept_staging: bool = False  # a --resume run that stopped: its staging tables kept
    objects: ObjectsResult | None = None  # views and sequences made, and not carried (why)

    @property
    def rows_kept(self) -> int:
        """Rows an interrupted run committed that this run kept (--resume)."""
        return sum(t.kept for t in self.tables.values())

    @property
    def rows_copied(self) -> int:
        """Rows this run copied (again, where an interrupted run had not committed them)."""
        return sum(max(0, t.rows - t.kept) for t in self.tables.values() if t.published)

    @property
    def nul_changed(self) -> int:
        """Values changed by the NUL policy, over all tables (0 unless --nul strip|replace)."""
        return sum(t.nul_changed for t in self.tables.values())

    @property
    def zero_dates(self) -> int:
        """Zero dates stored as NULL or -infinity, over all tables (0 unless --zero-dates)."""
        return sum(t.zero_dates for t in self.tables.values())

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and not self.interrupted
            and all(t.published for t in self.tables.values())
        )

    def state(self) -> str:
        """What the target holds after a run that stopped early, in one line for a person."""
        done, unfinished, untouched = outcome.sorted_out(self.tables)
        rest = len(untouched)
        if not done and not unfinished:
            if self.kept_staging:
                return (f"no table published: all {rest} untouched, staging kept; "
                        "`sluice copy --resume` continues")  # fmt: skip
            return f"no table published: all {rest} untouched; run the copy again"
        shown = outcome.names
        parts = [f"{len(done)} table(s) published and finished ({shown(done, 8)})"] if done else []
        if unfinished:
            parts.append(f"{len(unfinished)} published, NOT finished ({shown(unfinished, 8)})")
        line = ", ".join(parts)
        if rest:
            line += f", {rest} untouched ({shown(untouched, 8)}: previous state kept, "
            line += f"{self._staging})"
        return line + ("; `sluice copy --resume` finishes it" if self.kept_staging
                       else "; run the copy again to finish")  # fmt: skip

    @property
    def _staging(self) -> str:
        return "staging kept for --resume" if self.kept_staging else "staging dropped"


def check_lossy(plan: Plan, allow: bool) -> None:
    lossy = plan.lossy()
    if lossy and not allow:
        cols = "; ".join(
            f"{t}.{c.name}: {c.source_type} -> {c.target_type} ({c.note})" for t, c in lossy
        )
        tables = ",".join(dict.fromkeys(t for t, _ in lossy))
        raise ConfigError(f"lossy conversions need --allow-lossy: {cols} (--carry-as-text "
                          "carries a type the source has its own text of exactly; "
                          f"--skip-refused or --exclude-tables {tables} copies the other "
                          "tables)")  # fmt: skip


def check_zero_dates(source: DbUrl, target: DbUrl, zero_dates: str) -> None:
    """Refuse, before anything moves, a --zero-dates policy the target cannot apply."""
    why = zero_dates_problem(get_dialect(source.engine), get_dialect(target.engine), zero_dates)
    if why:
        raise ConfigError(why)


def copy_database(
    source: DbUrl,
    target: DbUrl,
    options: CopyOptions = CopyOptions(),
    reporter: Reporter | None = None,
    cancel: Cancel | None = None,
) -> CopyResult:
    """Copy every table of the source to the target. `cancel`, set from any thread or a
    signal handler (`sluice.core.interrupt.on_signals`), stops the run at its next safe point."""
    options.validate()
    started = time.monotonic()
    source, target = source.with_timeouts(options.timeouts), target.with_timeouts(options.timeouts)
    try:  # planning only reads: whatever fails here, the target has not been written to
        plan = build_plan(
            source, target, tables=options.tables,
            chunk_rows=options.chunk_rows, chunk_bytes=options.chunk_bytes,
            allow_empty=options.allow_empty, selection=options.selection,
        )  # fmt: skip
    except SluiceError as exc:
        raise exc.with_facts(target_state="untouched") from None
    check_lossy(plan, options.allow_lossy)
    refuse_not_carried(plan, options.fail_on_not_carried)  # before any table is touched
    return run_plan(plan, source, target, options, reporter, started, cancel)


@deferred_collections()
def run_plan(
    plan: Plan,
    source: DbUrl,
    target: DbUrl,
    options: CopyOptions,
    reporter: Reporter | None = None,
    started: float | None = None,
    cancel: Cancel | None = None,
) -> CopyResult:
    started = started or time.monotonic()
    source, target = source.with_timeouts(options.timeouts), target.with_timeouts(options.timeouts)
    check_zero_dates(source, target, options.zero_dates)
    reporter = reporter or Reporter(live=False)
    summaries = {t.name: TableSummary(t.name) for t in plan.tables}
    cancel = cancel or Cancel()
    stop = Cancel()  # this run's: set by the caller's cancel or by a failed chunk
    if cancel.cancelled:  # before anything was written
        return CopyResult(plan, summaries, None, time.monotonic() - started, interrupted=True)
    require_key([m for t in plan.tables for m in t.masks])  # a hash mask's secret, up front
    tune_allocator()
    policy = f"{options.nul}:{options.nul_replacement!r}:{options.zero_dates}"
    try:  # fresh staging tables, or those an interrupted run left (--resume)
        resumed = resume.begin(plan, target, options.resume, policy)
    except SluiceError as exc:
        dropped = options.resume or drop_leftovers_quietly(plan, target)  # made before it
        state = target_state(summaries, dropped and not options.resume, options.resume)
        raise exc.with_facts(side="target", host=where(target), target_state=state) from None
    if resumed.note:
        log.info("%s", resumed.note)
    plan, names = resumed.plan, [t.name for t in plan.tables]
    decoded = any(not t.passthrough for t in plan.tables)
    transfer, channel_bytes = TransferOptions.for_budget(
        options.memory_cap,
        options.workers,
        decoded,
        batch_rows=options.batch_rows,
        retries=options.retries,
        retry_deadline=options.retry_deadline,
        nul=NulPolicy(options.nul, options.nul_replacement, options.zero_dates),
        cancel=stop,
        ledger=resume.chunk_recorder(target, resumed.run),
    )
    budget = ByteBudget(channel_bytes, metrics.run_labels(source, target))
    lock = threading.Lock()
    # Swaps run one at a time: two tables joined by a foreign key would otherwise each lock
    # the other's table (dropping one drops the key that the other's swap also drops).
    publishing = threading.Lock()  # swaps one at a time (foreign keys between tables)
    done = resumed.done
    loaded = {t.name: sum(done.get(t.name, {}).values()) for t in plan.tables}
    remaining = {t.name: len(t.chunks) - len(done.get(t.name, {})) for t in plan.tables}
    for t in plan.tables:
        s = summaries[t.name]
        s.kept = resumed.published.get(t.name, loaded[t.name])
        s.kept_chunks = len(done.get(t.name, {}))
        if t.name in resumed.published:  # swapped in by the interrupted run
            s.rows, s.published = s.kept, True  # finished: by this run's finish step
            continue
        reporter.start(t.name, t.rows)
        if s.kept:
            reporter.advance(t.name, s.kept, 0)

    def progress(table: str, rows: int, nbytes: int) -> None:
        reporter.advance(table, rows, nbytes)

    refused: dict[str, DataError] = {}  # tables left out for a value (--skip-refused)

    def run(chunk) -> ChunkResult | None:
        if chunk.table in refused:
            return None
        stop.check(chunk.label)
        log.debug("%s: copying", chunk.label)
        reporter.begin(chunk.table)  # the table's own clock: its rate is not the run's
        # this run made the staging tables and runs each chunk once: nothing to clear first
        try:
            result = copy_chunk(
                plan.table(chunk.table), chunk, source, target, budget, transfer, progress,
                fresh=True,
            )  # fmt: skip
        except DataError as exc:  # a value the target cannot hold: the table is skipped
            if not options.skip_refused:
                raise
            with lock:
                refused.setdefault(chunk.table, exc)
            log.warning("%s: skipped (--skip-refused): %s", chunk.table, exc)
            return None  # never counted: the table's last chunk never comes, nor its publish
        with lock:
            s = summaries[chunk.table]
            s.bytes += result.bytes
            s.chunks += 1
            loaded[chunk.table] += result.rows
            s.decoded_again += result.decoded_again
            s.nul_changed += result.nul_changed
            s.zero_dates += result.zero_dates
            s.seconds = max(s.seconds, time.monotonic() - started)
            remaining[chunk.table] -= 1
            last = remaining[chunk.table] == 0
        log.debug("%s: committed %s rows", chunk.label, result.rows)
        if last:
            publish(chunk.table)
        return result

    def publish(name: str) -> None:
        published = publish_retried(
            plan, name, target, transfer, rows=loaded[name], swap_lock=publishing, cancel=stop,
            lock_timeout=options.lock_timeout,
            on_swap=resume.publish_recorder(target, resumed.run, plan.table(name)),
        )  # fmt: skip
        with lock:
            summaries[name].rows = published.rows
            summaries[name].published = True
            summaries[name].finished = published.finished
            summaries[name].keys_not_made = dict(getattr(published.completion, "not_created", {}))
        reporter.finish(name, published.rows)

    errors: list[SluiceError] = []
    with (
        shared_snapshot(source) as snapshot,
        ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="chunk") as pool,
    ):
        transfer = replace(transfer, snapshot=snapshot)  # every chunk reads the same instant
        futures = [pool.submit(run, c) for c in plan.largest_first()
                   if c.index not in done.get(c.table, {})
                   and c.table not in resumed.published]  # fmt: skip
        futures += [
            pool.submit(publish, n)
            for n, left in remaining.items()
            if not left and n not in resumed.published
        ]  # all chunks kept: publish

        _until_done_or_stopped(futures, cancel, stop)
        for f in futures:
            exc = f.exception() if f.done() and not f.cancelled() else None
            if exc is not None and not isinstance(exc, Interrupted):  # stopped is not failed
                errors.append(as_sluice_error(exc))
    if refused:  # their staging dropped; the plan (and finish, verify) goes on without them
        plan = _without(plan, refused, target)
        for name in refused:
            summaries.pop(name)
    result = CopyResult(plan, summaries, None, time.monotonic() - started, budget.peak)
    result.refused = tuple(s for s in plan.skipped if s.table in refused)
    result.zero_dates_as = "-infinity" if options.zero_dates == "-infinity" else "NULL"
    result.interrupted = cancel.cancelled and not all(s.published for s in summaries.values())
    result.resume_note, result.kept_staging = resumed.note, options.resume
    if errors or result.interrupted:  # a --resume run keeps its staging for the next one
        dropped = not options.resume and drop_leftovers_quietly(plan, target)
        published = [name for name, s in summaries.items() if s.published]
        unfinished = ""
        if published:  # whatever was swapped in gets its identities and keys
            try:
                result.finish = finish_retried(plan, target, transfer, published,
                                               options.lock_timeout)  # fmt: skip
                for name in published:
                    summaries[name].finished = True
            except Exception as exc:
                doing = "finishing the published tables"
                errors.append(as_sluice_error(exc, get_dialect(target.engine), target, doing))
                unfinished = "; their keys not all validated (the next copy does it)"
        result.seconds = time.monotonic() - started
        if errors:
            state = target_state(summaries, dropped, options.resume) + unfinished
            return _failed(result, errors, state)
        return result
    try:
        result.finish = finish_retried(plan, target, transfer, lock_timeout=options.lock_timeout)
        for s in summaries.values():
            s.finished = True
        result.objects = recreate_objects(plan, target)  # views and sequences (same engine)
    except Exception as exc:
        state = (f"all {len(summaries)} table(s) published and complete (identities and keys "
                 "made with each); keys not all validated, views and sequences not all made "
                 "(the next run finishes them)")  # fmt: skip
        err = as_sluice_error(exc, get_dialect(target.engine), target, "finishing the copy")
        return _failed(result, [err], state)
    resume.complete(names, target)
    result.kept_staging = False
    result.seconds = time.monotonic() - started
    return result


def _without(plan: Plan, refused: dict[str, DataError], target: DbUrl) -> Plan:
    """`plan` without the tables skipped for a refused value, each named with its reason (the
    refusal's one line without the table's name); their staging tables dropped."""
    drop_leftovers_quietly(replace(plan, tables=tuple(t for t in plan.tables
                                                      if t.name in refused)), target)  # fmt: skip
    reasons = reasons_by_table(list(refused.values()))
    return plan.without([Skipped(name, reasons[name]) for name in refused])


def _until_done_or_stopped(futures: list[Future], cancel: Cancel, stop: Cancel) -> None:
    """Wait for every chunk, unless the caller cancels or a chunk fails: then drop the queued
    ones and wait for the running ones, which stop at their next batch (`stop`)."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
        if cancel.cancelled:
            stop.cancel(cancel.reason)
        elif any(not f.cancelled() and f.exception() is not None for f in done):
            stop.cancel("another chunk failed")
        if stop.cancelled:
            for f in pending:
                f.cancel()
            wait(pending)
            return


def _failed(result: CopyResult, errors: list[SluiceError], state: str) -> CopyResult:
    for err in errors:
        err.with_facts(target_state=state)
        log.debug("failure: %s", err)  # the detail; the first one's line is what a person reads
    result.errors, result.failures = errors, [str(e) for e in errors]
    return result


def as_sluice_error(exc: BaseException, dialect=None, target: DbUrl | None = None,
                    doing: str = "") -> SluiceError:  # fmt: skip
    """An error as the run reports it: a sluice error as is; a target's driver error by its
    fault; anything else (a bug) named by its type, its text redacted."""
    if isinstance(exc, SluiceError):
        return exc
    if dialect is not None and target is not None and isinstance(exc, Exception):
        return target_fault(dialect, exc, doing, target)
    return TerminalError(f"internal error ({type(exc).__name__}): {redact_all(str(exc))}")


def drop_leftovers_quietly(plan: Plan, target: DbUrl) -> bool:
    try:
        drop_leftovers(plan, target)
        return True
    except Exception as exc:  # the copy already failed; this is best effort
        log.warning("could not drop staging tables: %s", redact_all(str(exc)))
        return False
