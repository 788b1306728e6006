"""Progress for long steps: a rich bar per table on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from contextlib import AbstractContextManager
from types import TracebackType

log = logging.getLogger("sluice.progress")


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
                TextColumn("{task.fields[rate]:>12}"),
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
        self._totals[name] = total
        self._started[name] = self._last_log[name] = time.monotonic()
        if self._progress is not None:
            self._tasks[name] = self._progress.add_task(name, total=total, rate="")
        else:
            log.info("%s: started (%s rows expected)", name, "?" if total is None else total)

    def advance(self, name: str, rows: int) -> None:
        self._counts[name] += rows
        now = time.monotonic()
        rate = self._counts[name] / max(now - self._started[name], 1e-9)
        if self._progress is not None:
            self._progress.update(self._tasks[name], advance=rows, rate=f"{rate:,.0f} rows/s")
        elif now - self._last_log[name] >= self.interval:
            self._last_log[name] = now
            log.info("%s: %s rows (%s rows/s)", name, f"{self._counts[name]:,}", f"{rate:,.0f}")

    def finish(self, name: str) -> None:
        elapsed = time.monotonic() - self._started[name]
        if self._progress is not None:
            task = self._tasks[name]
            self._progress.update(task, total=self._counts[name], completed=self._counts[name])
        else:
            log.info("%s: done, %s rows in %.1fs", name, f"{self._counts[name]:,}", elapsed)
