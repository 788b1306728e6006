"""Copy one chunk: a reader thread streams the key range from the source into a bounded
channel; the calling thread writes it to the staging table through the bulk path.

A chunk is idempotent: its transaction first deletes whatever an earlier try of
the same range left, then loads, then commits, so a retry (ours, or Airflow's)
never duplicates rows. Transient failures are retried with exponential backoff;
anything else stops with the table and key range named.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from sluice.copy.buffer import ByteBudget, Channel, ChannelClosed, FetchSize, estimate_size
from sluice.copy.masks import masked
from sluice.copy.memory import release_free_memory
from sluice.copy.plan import Chunk, TablePlan
from sluice.copy.staging import staging_table
from sluice.copy.stalls import end_session, stalled_error
from sluice.copy.writers import writer_slot
from sluice.core import metrics
from sluice.core.errors import (
    DataError,
    RawRejected,
    ServerUnavailable,
    SluiceError,
    TerminalError,
    TransientError,
    ValueRejected,
)
from sluice.core.faults import CONNECTION_LOST, chunk_part, fault_error, where
from sluice.core.hostile import NulPolicy, WriteGuard, diagnose, rows_of
from sluice.core.interrupt import Cancel
from sluice.core.liveness import DEFAULT_RETRY_DEADLINE, Watchdog
from sluice.core.schema import Table
from sluice.core.urls import DbUrl, redact_all
from sluice.core.values import converter
from sluice.dialects import get_dialect

log = logging.getLogger(__name__)
T = TypeVar("T")

# A decoded batch costs about three times its Python size in resident memory: the rows, what
# the writer derives from them (converted tuples, COPY buffers, INSERT text), and the heap
# fragmentation millions of small short-lived objects leave behind. The budget is charged
# for all of it, so the cap bounds resident memory, not a third of it (measured with memray
# and peak RSS, docs/benchmarks.md: charging 2x let the decoded path reach cap + 25 MiB).
DECODED_OVERHEAD = 3
# Batch-sized buffers a worker holds outside its channel. Raw bytes: the block being read and
# the one being written. Decoded rows: also the driver's result set, the writer's converted
# or escaped copies and the statement text built from them (measured, docs/benchmarks.md).
IN_HAND_RAW = 3
IN_HAND_DECODED = 6
MAX_BACKOFF = 15.0  # seconds: retries keep coming while a server restarts


@dataclass(frozen=True)
class ChunkResult:
    chunk: Chunk
    rows: int
    bytes: int
    attempts: int
    seconds: float
    decoded_again: bool = False  # the target rejected the raw bytes; copied as values
    nul_changed: int = 0  # values whose NUL characters the --nul policy stripped or replaced
    zero_dates: int = 0  # MySQL zero dates stored as NULL (--zero-dates null)


@dataclass(frozen=True)
class TransferOptions:
    batch_rows: int = 5_000  # upper bound; batches are also cut by `batch_bytes`
    batch_bytes: int = 4 << 20
    retries: int | None = None  # at most this many retries (None: as many as the deadline allows)
    backoff: float = 0.5  # seconds before the first retry; doubles each time, up to MAX_BACKOFF
    retry_deadline: float = DEFAULT_RETRY_DEADLINE  # seconds from a chunk's first failure
    snapshot: str | None = None  # the run's shared source snapshot (sluice.copy.snapshot)
    nul: NulPolicy = NulPolicy()
    # the run's cancellation: a chunk stops at its next batch, its transaction rolled back
    cancel: Cancel | None = None
    # written before each chunk's commit, in its transaction: (conn, chunk, rows, retry)
    ledger: Callable[[object, Chunk, int, bool], None] | None = None

    @classmethod
    def for_budget(
        cls, memory_cap: int, workers: int, decoded: bool = True, **kw
    ) -> tuple[TransferOptions, int]:
        """Options and the channel budget for one memory cap.

        Each worker holds up to IN_HAND batches outside its channel (one being fetched, one
        being written, and for decoded rows the driver's and writer's copies); that much is set
        aside from the cap, and the rest is what channels may buffer."""
        in_hand = IN_HAND_DECODED if decoded else IN_HAND_RAW
        per_batch = memory_cap // (4 * in_hand * max(1, workers))
        batch_bytes = max(64 << 10, min(8 << 20, per_batch))
        # drivers buffer on their own too (libpq's COPY buffers, PyMySQL's packets): an
        # allowance of an eighth of the cap, at most 16 MiB, is set aside for them
        drivers = min(memory_cap // 8, 16 << 20)
        channels = max(memory_cap // 4, memory_cap - in_hand * workers * batch_bytes - drivers)
        return cls(batch_bytes=batch_bytes, **kw), channels


def copy_chunk(
    tp: TablePlan,
    chunk: Chunk,
    source: DbUrl,
    target: DbUrl,
    budget: ByteBudget,
    options: TransferOptions = TransferOptions(),
    progress: Callable[[str, int, int], None] | None = None,
    into: Table | None = None,
    fresh: bool = False,
) -> ChunkResult:
    """Copy `chunk` of `tp` into its staging table (or `into`: a repair writes the live table,
    replacing the range in one transaction), retrying transient failures.

    Every try first deletes what an earlier try of the range may have committed. `fresh` says
    there is none before the first try (the caller made the staging table in this process
    and runs each chunk once): that delete is a scan of the whole unindexed staging table,
    0.45 s of a 4.7 s copy at scale 0.1, so the first try skips it; retries never do."""
    started = time.monotonic()
    tries = itertools.count(1)
    figures = metrics.table_labels(source, target, tp.target)  # the table as it lands

    plan = [tp]  # the raw path, until the target rejects a chunk's bytes
    guards: list[WriteGuard] = []  # the decoded path's checks, one per try (the last counts)

    def attempt() -> tuple[int, int]:
        clear = not (fresh and next(tries) == 1)
        try:
            return _attempt(plan[0], chunk, source, target, budget, options, progress, into,
                            clear, guards)  # fmt: skip
        except RawRejected as exc:
            log.warning("%s: %s; copying the range again as decoded values", chunk.label,
                        _about(chunk, exc))  # fmt: skip
            plan[0] = replace(tp, passthrough=False, raw_format="")
            return _attempt(plan[0], chunk, source, target, budget, options, progress, into,
                            True, guards)  # fmt: skip

    try:
        (rows, nbytes), attempts = retrying(chunk, attempt, options.retries, options.backoff,
                                            options.cancel, options.retry_deadline,
                                            figures)  # fmt: skip
    except ValueRejected as exc:
        raise _diagnosed(plan[0], chunk, source, target, options, exc) from None
    except DataError as exc:
        if exc.table == tp.name:
            raise
        # a writer names the table it writes (staging): the user knows the table by its name
        raise DataError(tp.name, exc.column, exc.key, exc.reason) from None
    seconds = time.monotonic() - started
    metrics.chunk_copied(figures, rows, nbytes, seconds)  # per chunk, never per row
    changed = guards[-1].changed if guards else 0
    zeros = guards[-1].zero_dates if guards else 0
    return ChunkResult(chunk, rows, nbytes, attempts, seconds, plan[0] is not tp, changed, zeros)


def _diagnosed(tp, chunk: Chunk, source: DbUrl, target: DbUrl, options, exc) -> SluiceError:
    """The failure path of a refused value: read the chunk again, find the rows, name them."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    log.warning("%s: %s; checking the range's values to name the rows", chunk.label,
                _about(chunk, exc))  # fmt: skip

    def read_rows():
        conn = src.connect(source)
        try:
            # read-only like the copy's reads; the run's snapshot: the rows the copy refused
            src.begin_read(conn, options.snapshot)
            convert = masked(converter(src.decode_converters(tp.table)), tp, src)
            fetch = FetchSize(options.batch_rows, options.batch_bytes)  # wide rows: fewer
            for batch, _ in _sized(src.read_range(conn, tp.table, chunk.lo, chunk.hi, fetch),
                                   options, fetch):  # fmt: skip
                yield from rows_of([batch], convert)
        finally:
            conn.close()

    def locate():
        conn = src.connect(source)
        try:
            src.begin_read(conn, options.snapshot)
            return src.locate_unreadable(conn, tp.table, chunk.lo, chunk.hi)
        finally:
            conn.close()

    extra = []
    with contextlib.suppress(Exception):  # the diagnosis is best effort: else the original
        extra = dst.database_checks(target, tp.table)
    return diagnose(src, dst, tp.table, read_rows, locate, options.nul, exc, extra)


def _about(chunk: Chunk | str, exc: BaseException) -> str:
    """`exc`'s message without the chunk label (or table name) it starts with: the warnings
    that quote it name the chunk themselves, once."""
    text = str(exc)
    for prefix in (chunk,) if isinstance(chunk, str) else (chunk.label, chunk.table):
        text = text.removeprefix(f"{prefix}: ")
    return text


def retrying(
    chunk: Chunk | str,
    fn: Callable[[], T],
    retries: int | None,
    backoff: float,
    stop: Cancel | None = None,
    deadline: float = DEFAULT_RETRY_DEADLINE,
    labels: Mapping[str, str] | None = None,
) -> tuple[T, int]:
    """`fn()` and its tries. Transient failures and a server not answering or restarting
    (`ServerUnavailable`) are retried with exponential backoff (`backoff` s, doubling, at most
    MAX_BACKOFF) until `deadline` s after the first failure (or `retries` tries), then terminal,
    named by `chunk` (or a step's name: publish, finish): a deadline survives a restart. A set
    `stop` ends the loop before the next try. A retry counts in retries_total by its fault."""
    label = chunk if isinstance(chunk, str) else chunk.label
    first_failure = None
    attempt = 0
    while True:
        attempt += 1
        if stop is not None:
            stop.check(label)
        try:
            return fn(), attempt
        except (TransientError, ServerUnavailable) as exc:
            now = time.monotonic()
            first_failure = first_failure if first_failure is not None else now
            remaining = deadline - (now - first_failure)
            if (retries is not None and attempt > retries) or remaining <= 0:
                spent = f" over {now - first_failure:.0f}s" if attempt > 1 else ""
                raise TerminalError(
                    f"{label}: gave up after {attempt} tries{spent}: {_about(chunk, exc)}"
                ).with_facts(**_lost(exc), tries=attempt) from None
            delay = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF, remaining)
            fault = getattr(_lost(exc).get("fault"), "name", "transient")
            metrics.count("retries_total", 1, {**(labels or {}), "fault": fault})
            log.warning("%s: try %d failed (%s); retrying in %.1fs", label, attempt,
                        _about(chunk, exc), delay)  # fmt: skip
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)


def _lost(exc: SluiceError) -> dict:
    """`exc`'s facts; a server not reached within the deadline is a lost connection."""
    facts = exc.facts()
    if isinstance(exc, ServerUnavailable) and facts.get("fault") is None:
        facts["fault"] = CONNECTION_LOST
    return facts


def _attempt(tp, chunk, source, target, budget, options, progress, into, clear,
             guards=None) -> tuple[int, int]:  # fmt: skip
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    stage = into or staging_table(dst, tp.target)
    src_conn = dst_conn = None
    channel = Channel(budget, options.cancel, chunk.label)
    counted = {"rows": 0, "bytes": 0}
    watch = Watchdog()
    sessions = {}
    try:
        src_conn = guard(src, chunk, lambda: src.connect(source), "source", source)
        dst_conn = guard(dst, chunk, lambda: dst.connect(target), "target", target)
        for side, d, conn, url in (("source", src, src_conn, source),
                                   ("target", dst, dst_conn, target)):  # fmt: skip
            d.stream_timeouts(conn, url.timeouts)
            with contextlib.suppress(Exception):
                sessions[side] = d.session_id(conn)
            watch.watch(side, url.timeouts.stall, lambda d=d, conn=conn: d.sever(conn))
        reader = threading.Thread(
            target=_read,
            args=(src, src_conn, tp, chunk, channel, options, counted, progress, source, watch),
            name=f"read-{chunk.label}", daemon=True,
        )  # fmt: skip
        reader.start()
        try:
            check = WriteGuard(src, dst, tp.table, options.nul)
            if guards is not None:
                guards.append(check)
            write = (dst, dst_conn, stage, tp, chunk, channel, progress, clear, check, watch,
                     options.ledger)  # fmt: skip
            written = _write_turn(
                dst_conn,
                target,
                lambda: guard(dst, chunk, lambda: _write(*write), "target", target),
                watch,
            )
        except BaseException:
            watch.rest("target")
            channel.cancel()
            reader.join(timeout=30)
            raise
        reader.join()
        # raw bytes are not split into rows on the way: the target's COPY count says
        return (written if tp.passthrough else counted["rows"]), counted["bytes"]
    except Exception as exc:
        if watch.stalled:  # what the user needs to know is the stall, not the severed call
            url, d = (source, src) if watch.stalled == "source" else (target, dst)
            end_session(d, url, sessions.get(watch.stalled), chunk)
            raise stalled_error(chunk, watch, url) from None
        # a connection the kernel gave up on (keepalive, tcp_user_timeout) may still hold its
        # session, and that session its locks, on a server that never saw it go: end both
        # sides' sessions of this try, as the watchdog does for a stall
        for side, url, d in (("source", source, src), ("target", target, dst)):
            if _connection_lost(exc, d) and getattr(exc, "side", None) in (side, None):
                end_session(d, url, sessions.get(side), chunk)
        raise
    finally:
        watch.close()
        release_free_memory()
        for conn in (src_conn, dst_conn):
            if conn is not None:
                # closing a broken connection must not hide the real error
                with contextlib.suppress(Exception):
                    conn.close()


def _connection_lost(exc: BaseException, dialect) -> bool:
    """A lost connection, whether the sluice error `guard` made of it (the fault is one of
    its facts: the driver's exception is gone) or a driver exception that escaped it."""
    if isinstance(exc, SluiceError):
        return exc.fault is CONNECTION_LOST
    return dialect.classify_fault(exc) is CONNECTION_LOST


def _write_turn(conn, target: DbUrl, write: Callable[[], T], watch: Watchdog) -> T:
    """Run one write transaction in the target's writer slot (one at a time where the engine
    allows one writer, sluice.copy.writers); a failed one is rolled back before the slot is freed,
    so the next writer does not wait for this one's lock."""
    with contextlib.ExitStack() as turn:
        with watch.waiting("target"):  # waiting for the turn is no stall of the target
            turn.enter_context(writer_slot(target))
        try:
            return write()
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise


def guard(dialect, chunk: Chunk, fn, side: str | None = None, url: DbUrl | None = None):
    """Run `fn`, translating driver exceptions into sluice errors named by table and range,
    carrying the fault, the side and its host (for the line a person reads)."""
    try:
        return fn()
    except SluiceError as exc:
        _placed(exc, chunk, side, url)
        raise
    except Exception as exc:
        raise _translate(dialect, chunk, exc, side, url) from None


def _placed(exc: SluiceError, chunk: Chunk, side: str | None, url: DbUrl | None) -> SluiceError:
    host = where(url) if url is not None else None
    return exc.with_facts(side=side, host=host, table=chunk.table,
                          chunk=chunk_part(chunk.label, chunk.table))  # fmt: skip


def _read(src, conn, tp: TablePlan, chunk: Chunk, channel: Channel, options, counted,
          progress, source: DbUrl | None = None,
          watch: Watchdog | None = None) -> None:  # fmt: skip
    watch = watch or Watchdog()  # unwatched: its methods only note the time
    try:
        src.begin_read(conn, options.snapshot)  # read-only, one consistent view (ADR 0010)
        if tp.passthrough:
            # once per row (a COPY hands rows one by one): a block is appended and freed at
            # once (a list of them left thousands of small driver buffers alive per batch,
            # and RSS grew with the run), the cancel flag asked per batch; the batch goes as
            # it is, charged for its allocation
            pending = bytearray()
            limit, touch = options.batch_bytes, watch.touch
            fmt = tp.raw_format or src.raw_copy_format
            for block in src.raw_read(conn, tp.table, chunk.lo, chunk.hi, fmt):
                touch("source")
                pending += block
                if len(pending) >= limit:
                    if _stopped(options):
                        return
                    with watch.waiting("source"):  # a full channel is the target's time
                        channel.put(pending, sys.getsizeof(pending))
                    counted["bytes"] += len(pending)
                    pending = bytearray()
            if pending:
                channel.put(pending, sys.getsizeof(pending))
                counted["bytes"] += len(pending)
        else:
            convert = masked(converter(src.decode_converters(tp.table)), tp, src)  # --mask
            fetch = FetchSize(options.batch_rows, options.batch_bytes)
            # a chunk is loaded as a set: no ORDER BY (a sort on PostgreSQL)
            rows = src.read_range(conn, tp.table, chunk.lo, chunk.hi, fetch, ordered=False)
            for batch, size in _sized(watch.progressed("source", rows), options, fetch):
                if _stopped(options):
                    return  # the writer stops too, at its next batch
                if convert is not None:
                    batch = [convert(row) for row in batch]
                with watch.waiting("source"):
                    channel.put(batch, size * DECODED_OVERHEAD)
                counted["rows"] += len(batch)
                counted["bytes"] += size
                if progress:  # bytes as read (the writer reports rows as written)
                    progress(tp.name, 0, size)
        conn.rollback()  # a read-only transaction: nothing to keep
        watch.rest("source")
        channel.close()
    except ChannelClosed:
        return
    except BaseException as exc:
        watch.rest("source")
        try:
            err = _translate(src, chunk, exc, "source", source, "reading the source: ")
        except Exception:
            err = exc
        channel.close(err)


def _stopped(options: TransferOptions) -> bool:
    return options.cancel is not None and options.cancel.cancelled


def _sized(batches, options: TransferOptions, fetch: FetchSize):
    """Re-cut driver batches so none holds more than `batch_bytes` (wide rows, huge values)."""
    for batch in batches:
        size = estimate_size(batch)
        fetch.observe(len(batch), size)
        if size <= options.batch_bytes or len(batch) == 1:
            yield batch, size
            continue
        per_row = max(1, size // len(batch))
        step = max(1, options.batch_bytes // per_row)
        for i in range(0, len(batch), step):
            part = batch[i : i + step]
            yield part, estimate_size(part)


def _translate(dialect, chunk: Chunk, exc: BaseException, side: str | None = None,
               url: DbUrl | None = None, doing: str = "") -> BaseException:  # fmt: skip
    """A driver exception as a sluice error: its fault (retried or not), the chunk, the side;
    the driver's text stays in the message (the log), out of the line a person reads."""
    if isinstance(exc, SluiceError):
        return _placed(exc, chunk, side, url)
    if not isinstance(exc, Exception):
        return exc  # KeyboardInterrupt, SystemExit: not a fault of a database
    fault = dialect.classify_fault(exc)
    message = f"{chunk.label}: {doing}{redact_all(' '.join(str(exc).split()))}"
    if not fault.retryable and dialect.rejects_value(exc):
        # a value refused or not decodable: named by key on the failure path (copy_chunk)
        return _placed(ValueRejected(message), chunk, side, url)
    return _placed(fault_error(fault, message, side=side, url=url), chunk, side, url)


def _write(dst, conn, stage, tp: TablePlan, chunk: Chunk, channel: Channel, progress,
           clear: bool = True, check: WriteGuard | None = None,
           watch: Watchdog | None = None, ledger=None) -> int | None:  # fmt: skip
    """Load the chunk in one transaction; for raw bytes, the rows the target counted."""
    written = None
    # waits for the reader (an empty channel) are the source's time, not the target's
    items = channel if watch is None else watch.pulled("target", channel)
    if clear:
        dst.clear_range(conn, stage, chunk.lo, chunk.hi)
    if tp.passthrough:

        def blocks() -> Iterator[bytes]:
            for block in items:
                yield block
                if progress:
                    progress(tp.name, 0, len(block))

        written = dst.raw_write(conn, stage, blocks(), tp.raw_format or dst.raw_copy_format)
    else:
        convert = converter(dst.encode_converters(tp.table))
        if check is not None and check.active:  # hostile values this pair must check
            encode = convert
            convert = check if encode is None else (lambda row: encode(check(row)))

        def rows() -> Iterator[tuple]:
            for batch in items:
                if convert is None:
                    yield from batch
                else:
                    for row in batch:
                        yield convert(row)
                if progress:
                    progress(tp.name, len(batch), 0)

        with dst.identity_insert(conn, stage):
            loaded = dst.bulk_load(conn, stage, rows())
    if ledger is not None:  # the chunk's ledger row commits with its rows (copy.resume)
        ledger(conn, chunk, written if tp.passthrough else loaded, clear)
    conn.commit()
    if written and progress:  # raw bytes: rows are known when the target has counted them
        progress(tp.name, written, 0)
    if watch is not None:
        watch.rest("target")
    return written
