"""Progress for long steps: a rich bar per table on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import AbstractContextManager
from types import TracebackType

log = logging.getLogger("sluice.core.progress")


class Reporter(AbstractContextManager["Reporter"]):
    """Counts rows per named task. `advance()` is cheap: call it per batch, not per row."""

    def __init__(self, *, live: bool | None = None, interval: float = 5.0):
        self.live = sys.stderr.isatty() if live is None else live
        self.interval = interval
        self._progress = None
        self._tasks: dict[str, object] = {}
        self._counts: dict[str, int] = {}
        self._totals: dict[str, int | None] = {}
        self._last_log: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._bytes: dict[str, int] = {}
        self._lock = threading.Lock()  # chunks of one table advance from several threads

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[mb]:>10}"),
                TextColumn("{task.fields[rate]:>14}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
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
            self._tasks[name] = self._progress.add_task(name, total=total, rate="", mb="")
        else:
            log.info("%s: started (%s rows expected)", name, "?" if total is None else total)

    def advance(self, name: str, rows: int, nbytes: int = 0) -> None:
        with self._lock:
            self._counts[name] += rows
            self._bytes[name] += nbytes
            now = time.monotonic()
            rate = self._counts[name] / max(now - self._started[name], 1e-9)
            mb = f"{self._bytes[name] / 1e6:,.1f} MB"
            if self._progress is not None:
                task = self._tasks[name]
                self._progress.update(task, advance=rows, rate=f"{rate:,.0f} rows/s", mb=mb)
            elif now - self._last_log[name] >= self.interval:
                self._last_log[name] = now
                count = f"{self._counts[name]:,}"
                log.info("%s: %s rows, %s (%s rows/s)", name, count, mb, f"{rate:,.0f}")

    def finish(self, name: str, rows: int | None = None) -> None:
        """The table is done; `rows` (when known) replaces the running count."""
        if rows is not None:
            self._counts[name] = rows
        elapsed = time.monotonic() - self._started[name]
        if self._progress is not None:
            task = self._tasks[name]
            rate = f"{self._counts[name] / max(elapsed, 1e-9):,.0f} rows/s"
            n = self._counts[name]
            self._progress.update(task, total=n, completed=n, rate=rate)
        else:
            log.info("%s: done, %s rows in %.1fs", name, f"{self._counts[name]:,}", elapsed)
