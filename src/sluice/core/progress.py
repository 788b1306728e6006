"""Progress for long steps: a rich bar per table on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import AbstractContextManager
from types import TracebackType

log = logging.getLogger("sluice.core.progress")


def _count_column():
    """'140,000/140,000': never cut (no_wrap; the bar is the column that shrinks)."""
    from rich.progress import ProgressColumn
    from rich.table import Column
    from rich.text import Text

    class Count(ProgressColumn):
        def render(self, task) -> Text:
            total = "?" if task.total is None else f"{int(task.total):,}"
            return Text(f"{int(task.completed):,}/{total}", style="progress.download")

    return Count(table_column=Column(no_wrap=True, justify="right"))


def _compact(n: float) -> str:
    """1,234 / 123.4k / 12.3M: at most 6 characters, so the rate column stays narrow."""
    if n < 10_000:
        return f"{n:,.0f}"
    if n < 1_000_000:
        return f"{n / 1e3:.1f}k"
    return f"{n / 1e6:,.1f}M"


class Reporter(AbstractContextManager["Reporter"]):
    """Counts rows per named task. `advance()` is cheap: call it per batch, not per row.

    A table's rate is measured over its own active time: from `begin()` (its first chunk
    started; `start()` when nobody calls begin) to now, not over the whole run. Until rows
    are counted (raw paths count them when a chunk commits) the rate shows bytes moving."""

    def __init__(self, *, live: bool | None = None, interval: float = 5.0, console=None):
        self.live = sys.stderr.isatty() if live is None else live
        self.interval = interval
        self.console = console
        self._progress = None
        self._tasks: dict[str, object] = {}
        self._counts: dict[str, int] = {}
        self._totals: dict[str, int | None] = {}
        self._last_log: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._begun: dict[str, float] = {}
        self._ended: dict[str, float] = {}
        self._bytes: dict[str, int] = {}
        self._lock = threading.Lock()  # chunks of one table advance from several threads

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.table import Column

            def text(template: str, **column) -> TextColumn:
                return TextColumn(template, table_column=Column(no_wrap=True, **column))

            self._progress = Progress(
                # the name is the column that gives way (ellipsis); counts and rates never do
                TextColumn(
                    "[bold]{task.description}",
                    table_column=Column(min_width=8, max_width=24, overflow="ellipsis"),
                ),  # fmt: skip
                BarColumn(bar_width=None, table_column=Column(min_width=4, max_width=40)),
                _count_column(),
                text("{task.fields[mb]}", justify="right"),
                text("{task.fields[rate]}", justify="right"),
                TimeElapsedColumn(table_column=Column(no_wrap=True)),
                TimeRemainingColumn(table_column=Column(no_wrap=True)),
                console=self.console or Console(stderr=True),
            )
            self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)

    def start(self, name: str, total: int | None) -> None:
        self._counts[name] = 0
        self._bytes[name] = 0
        self._totals[name] = total
        self._started[name] = self._last_log[name] = time.monotonic()
        if self._progress is not None:
            # not started: the bar pulses and the clock waits until the table's first chunk
            self._tasks[name] = self._progress.add_task(
                name, total=total, rate="", mb="", start=False
            )
        else:
            log.info("%s: started (%s rows expected)", name, "?" if total is None else total)

    def begin(self, name: str) -> None:
        """The table's work starts now (its first chunk): its clock starts here."""
        with self._lock:
            if name in self._begun:
                return
            self._begun[name] = time.monotonic()
        if self._progress is not None:
            self._progress.start_task(self._tasks[name])

    def elapsed(self, name: str) -> float:
        """Seconds the table has been active (until `finish()`, then frozen)."""
        end = self._ended.get(name, time.monotonic())
        return max(end - self._begun.get(name, self._started[name]), 1e-9)

    def rate(self, name: str) -> str:
        """rows/s once rows are counted; before that bytes/s (raw paths, first chunks)."""
        seconds = self.elapsed(name)
        if self._counts[name]:
            return f"{_compact(self._counts[name] / seconds)} rows/s"
        if self._bytes[name]:
            return f"{self._bytes[name] / seconds / 1e6:,.1f} MB/s"
        return "waiting" if name not in self._begun else "copying"

    def advance(self, name: str, rows: int, nbytes: int = 0) -> None:
        if name not in self._begun:
            self.begin(name)  # callers that never call begin(): the first batch starts it
        with self._lock:
            self._counts[name] += rows
            self._bytes[name] += nbytes
            now = time.monotonic()
            mb = f"{self._bytes[name] / 1e6:,.1f} MB"
            if self._progress is not None:
                task = self._tasks[name]
                self._progress.update(task, advance=rows, rate=self.rate(name), mb=mb)
            elif now - self._last_log[name] >= self.interval:
                self._last_log[name] = now
                done = f"{self._counts[name]:,} rows" if self._counts[name] else "copying"
                log.info("%s: %s, %s (%s)", name, done, mb, self.rate(name))

    def finish(self, name: str, rows: int | None = None) -> None:
        """The table is done; `rows` (when known) replaces the running count."""
        if rows is not None:
            self._counts[name] = rows
        if name not in self._begun:
            self.begin(name)
        self._ended[name] = time.monotonic()
        elapsed = self.elapsed(name)
        if self._progress is not None:
            task = self._tasks[name]
            n = self._counts[name]
            rate = self.rate(name) if n or self._bytes[name] else ""
            self._progress.update(task, total=n, completed=n, rate=rate)
            self._progress.stop_task(task)
        else:
            log.info("%s: done, %s rows in %.1fs", name, f"{self._counts[name]:,}", elapsed)
