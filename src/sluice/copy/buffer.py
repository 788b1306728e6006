"""The memory cap: one byte budget shared by every reader/writer pair of a run.

Readers `put` batches with their estimated size; a put waits while the budget is
spent, unless its own channel holds nothing: every channel may always hold one
batch. Without that reservation one stalled consumer (a writer waiting for a lock
held by another writer, which waits for rows its reader cannot put) would starve
every other channel into a deadlock. So what channels hold is bounded by the
budget plus one batch per active channel (a batch larger than the budget, one huge
value, is such a batch). The budget bounds what sits between reader and writer;
what a driver holds while encoding one batch comes on top (see docs/engine.md).
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sluice.core import metrics

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sluice.core.interrupt import Cancel

_DONE = object()


class ByteBudget:
    """A counting semaphore measured in bytes, with one batch reserved per channel.

    Invariant: `used` <= `capacity` + the oldest charged batch of each channel (a put past
    the capacity is only admitted into an empty channel, and channels release in order).

    With `labels` (`metrics.run_labels`), what it holds is the gauge memory_buffered_bytes,
    set on each change: a batch's put or release, never a row."""

    def __init__(self, capacity: int, labels: Mapping[str, str] | None = None):
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.used = 0
        self.peak = 0
        self.labels = labels
        self._cond = threading.Condition()

    def acquire(
        self, n: int, cancelled: threading.Event | None = None, account: _Account | None = None
    ) -> None:
        """Take `n` bytes; wait while the budget is spent and `account` (the channel's share)
        already holds something. Without an account, only an empty budget admits past it."""
        with self._cond:
            while self.used + n > self.capacity and self._holding(account):
                if cancelled is not None and cancelled.is_set():
                    raise _Cancelled()
                self._cond.wait(0.2)
            self.used += n
            self.peak = max(self.peak, self.used)
            if account is not None:
                account.held += n
            self._show()

    def release(self, n: int, account: _Account | None = None) -> None:
        with self._cond:
            self.used -= n
            if account is not None:
                account.held -= n
            self._cond.notify_all()
            self._show()

    def _show(self) -> None:
        if self.labels is not None:  # under the lock: the gauge follows `used` in order
            metrics.gauge("memory_buffered_bytes", self.used, self.labels)

    def _holding(self, account: _Account | None) -> bool:
        return (self.used if account is None else account.held) > 0


class _Account:
    """What one channel holds of the budget: its queued batches and the one being written."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held = 0


class _Cancelled(Exception):
    pass


class Channel:
    """A one-reader, one-writer queue whose contents count against a shared `ByteBudget`."""

    def __init__(self, budget: ByteBudget, stop: Cancel | None = None, label: str = ""):
        self.budget = budget
        self.stop = stop  # the run's cancellation: the consumer stops at its next batch
        self.label = label
        self._items: deque[tuple[Any, int]] = deque()
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._account = _Account()  # this channel's share: a batch is admitted when it is 0
        self.cancelled = threading.Event()

    def put(self, item: Any, size: int) -> None:
        """Block until the budget allows `size` more bytes (at once if this channel holds
        nothing); raise if the consumer gave up."""
        try:
            self.budget.acquire(size, self.cancelled, self._account)
        except _Cancelled:
            raise ChannelClosed() from None
        with self._cond:
            if self.cancelled.is_set():  # cancelled while admitted: nobody will release it
                self.budget.release(size, self._account)
                raise ChannelClosed()
            self._items.append((item, size))
            self._cond.notify()

    def close(self, error: BaseException | None = None) -> None:
        """The producer is done (or failed with `error`, re-raised to the consumer)."""
        with self._cond:
            self._error = error
            self._items.append((_DONE, 0))
            self._cond.notify()

    def cancel(self) -> None:
        """The consumer gives up: wake the producer and return what is buffered to the budget."""
        self.cancelled.set()
        with self._cond:
            while self._items:
                item, size = self._items.popleft()
                self.budget.release(size, self._account)

    def __iter__(self) -> Iterator[Any]:
        while True:
            with self._cond:
                while not self._items:
                    self._check_stop()
                    self._cond.wait(None if self.stop is None else 0.2)
                self._check_stop()
                item, size = self._items.popleft()
            if item is _DONE:
                if self._error is not None:
                    raise self._error
                return
            try:
                yield item
            finally:
                self.budget.release(size, self._account)

    def _check_stop(self) -> None:
        if self.stop is not None:
            self.stop.check(self.label or "copy")


class ChannelClosed(Exception):
    """Raised in a producer whose consumer stopped; the producer just ends."""


def estimate_size(batch: list[tuple]) -> int:
    """Bytes a batch of rows holds in Python: payload of str/bytes plus per-value overhead."""
    total = 56 * len(batch)
    for row in batch:
        for v in row:
            if v is None:
                total += 8
            elif isinstance(v, (str, bytes, bytearray, memoryview)):
                total += sys.getsizeof(v)
            else:
                total += 32
    return total


class FetchSize:
    """How many rows to ask the driver for next: starts at one row and grows fourfold while
    batches stay under `target_bytes`, then follows the observed row width. A table of huge
    values is fetched a row at a time; a narrow table in batches of `max_rows`."""

    def __init__(self, max_rows: int, target_bytes: int):
        self.max_rows = max(1, max_rows)
        self.target_bytes = max(1, target_bytes)
        self.rows = 1

    def __index__(self) -> int:  # lets drivers take it where they expect an int
        return self.rows

    def next(self) -> int:
        return self.rows

    def observe(self, rows: int, nbytes: int) -> None:
        if rows <= 0:
            return
        per_row = max(1, nbytes // rows)
        fit = max(1, self.target_bytes // per_row)
        self.rows = max(1, min(self.max_rows, fit, self.rows * 4))
