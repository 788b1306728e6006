"""The rows of one key range as digests, and naming what differs between two sides' rows.

Each verification method digests rows its own way: client-side over the canonical encoding
in the source type's domain (`canonical_rows`), or by the server (`native_rows`: two
PostgreSQL tables of identical declared types). Both yield, per row in key order,
(key, row digest, column digests), so `differences` can name, for one mismatching range, the
keys missing from the target, extra in it, or changed, and for a changed row the columns that
differ: the same method that found the range differing names what differs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from sluice.copy.buffer import FetchSize, estimate_size
from sluice.copy.masks import row_mask
from sluice.copy.stalls import stalled_error
from sluice.copy.transfer import guard
from sluice.core.liveness import Watchdog
from sluice.core.types import Kind
from sluice.core.urls import DbUrl
from sluice.core.values import converter
from sluice.verify.canonical import column_digests, row_digest, row_encoder, value_encoders

FETCH_BYTES = 2 << 20  # per side and range being verified

# The driver's own values of these kinds go to the encoder unconverted: the copy's decode
# converters fold values the source type's domain tells apart (bool(5) is true; a MySQL TIME
# of 100 h made a time of day is 04:00), and the encoder reads every driver's shape of them.
_RAW_KINDS = (Kind.BOOLEAN, Kind.TIME)
_NULL_DIGEST = b"\xffNULL\xff\xff\xff"  # a NULL column in a server's per-column digests
_MASK64 = (1 << 64) - 1

Row = tuple[tuple, int, "bytes | None"]  # key values, row digest, 8 bytes per column


def watch_connection(dialect, url: DbUrl, conn, side: str | None = None) -> Watchdog:
    """A stall watchdog on one verifying connection (core/liveness), named by its side
    (source or target; its host where the caller did not say), as the stall's line is."""
    dialect.stream_timeouts(conn, url.timeouts)
    watch = Watchdog()
    watch.watch(side or url.host, url.timeouts.stall, lambda: dialect.sever(conn))
    return watch


def canonical_rows(
    dialect,
    url,
    table,
    chunk,
    domains: Sequence[str | None] | None,
    columns: bool = False,
    side: str | None = None,
    masks: Sequence[tuple[str, str]] = (),
) -> Iterator[Row]:
    """(key, digest, column digests or None) of every row of the range, in key order, read
    in bounded batches; each value encoded in its source column's domain. `side` (source
    or target) names the connection in a stall's message; `masks` (the source side of a
    masked table) are applied as the copy applied them (copy.masks), before encoding."""
    key_at = [table.column_names.index(k) for k in table.primary_key]
    types = [c.type for c in table.columns]
    encode = row_encoder(types, domains)
    parts = value_encoders(types, domains) if columns else None
    funcs = dialect.decode_converters(table)
    convert = masked_rows(converter(
        [None if c.type.kind in _RAW_KINDS else f for c, f in zip(table.columns, funcs)]
    ), table, masks, dialect)  # fmt: skip
    fetch = FetchSize(5_000, FETCH_BYTES)
    conn = None
    watch = Watchdog()
    name = side or url.host
    try:
        conn = guard(dialect, chunk, lambda: dialect.connect(url))
        watch = watch_connection(dialect, url, conn, side)
        guard(dialect, chunk, lambda: dialect.begin_read(conn))  # read-only, one view
        batches = dialect.read_range(conn, table, chunk.lo, chunk.hi, fetch)
        while True:
            try:
                batch = guard(dialect, chunk, lambda: next(batches, None))
            except Exception:
                if watch.stalled:
                    raise stalled_error(chunk, watch, url) from None
                raise
            if batch is None:
                break
            watch.rest(url.host)  # digesting, or waiting on the other side: not this server
            fetch.observe(len(batch), _sampled_size(batch))
            for row in batch:
                if convert is not None:
                    row = convert(row)
                cols = column_digests(parts, row) if parts is not None else None
                yield tuple(row[i] for i in key_at), row_digest(encode(row)), cols
            watch.touch(name)
        conn.rollback()
    finally:
        watch.close()
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def masked_rows(convert, table, masks, dialect=None):
    """`convert` then the masks: the source's values as the masked copy wrote them."""
    mask = row_mask(table.columns, masks, dialect)
    if mask is None or convert is None:
        return mask or convert
    return lambda row: mask(convert(row))


def native_rows(dialect, url, table, chunk) -> Iterator[Row]:
    """(key, digest, column digests) of every row of the range, in key order, digested by
    the server over each row's and each column's text form."""
    n = len(table.primary_key)
    conn = guard(dialect, chunk, lambda: dialect.connect(url))
    try:
        guard(dialect, chunk, lambda: dialect.begin_read(conn))
        rows = dialect.row_digests(conn, table, chunk.lo, chunk.hi)
        while True:
            row = guard(dialect, chunk, lambda: next(rows, None))
            if row is None:
                break
            cols = b"".join(
                _NULL_DIGEST if h is None else (int(h) & _MASK64).to_bytes(8, "big")
                for h in row[n + 1 :]
            )
            yield tuple(row[:n]), int(row[n]), cols
        conn.rollback()
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _sampled_size(batch: list) -> int:
    """The batch's size estimated from a few rows: fetch sizing needs no more."""
    sample = batch[:: max(1, len(batch) // 16)]
    return estimate_size(sample) * len(batch) // len(sample)


def differences(
    left: Iterator[Row], right: Iterator[Row], names: Sequence[str], ordered: bool
) -> Iterator[tuple[str, tuple, list[str]]]:
    """("missing" | "extra" | "changed", key, differing column names) for every key whose
    rows differ. `ordered`: both streams come in the same key order (integer keys sort alike
    on every engine), so they are merged holding only the current rows; otherwise (collations
    differ) the source's rows of this one range are held in a dictionary."""
    pairs = _merge(left, right) if ordered else _by_dict(left, right)
    for kind, key, a, b in pairs:
        yield kind, key, _columns(names, a, b) if kind == "changed" else []


def _columns(names: Sequence[str], a: bytes | None, b: bytes | None) -> list[str]:
    if a is None or b is None:
        return []
    return [n for i, n in enumerate(names) if a[8 * i : 8 * i + 8] != b[8 * i : 8 * i + 8]]


def _merge(left, right) -> Iterator[tuple]:
    """Merge two key-ordered streams; a key repeated in the target (no key constraint there)
    comes out as extra."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield "missing", a[0], None, None
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            yield "extra", b[0], None, None
            b = next(right, None)
        else:
            if a[1] != b[1]:
                yield "changed", a[0], a[2], b[2]
            a, b = next(left, None), next(right, None)


def _by_dict(left, right) -> Iterator[tuple]:
    theirs = {key: (digest, cols) for key, digest, cols in left}
    for key, digest, cols in right:
        if key not in theirs:
            yield "extra", key, None, None
            continue
        their_digest, their_cols = theirs.pop(key)
        if their_digest != digest:
            yield "changed", key, their_cols, cols
    for key in theirs:
        yield "missing", key, None, None
