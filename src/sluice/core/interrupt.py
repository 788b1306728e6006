"""Stopping a run on request: a cancellation token the engine checks at safe points, and
the signal handling that sets it.

A copy or a verification polls its `Cancel` between batches, before a publish and between
key ranges; it stops there, leaves every table whole (see docs/engine.md, "Interrupting a
run"), and says what state the target is in. The token is a plain value any caller can
set: the CLI's SIGINT/SIGTERM handler, an Airflow task's SIGTERM, a test, another thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

from sluice.core.errors import SluiceError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
HARD_EXIT = (
    "interrupted again: stopped at once; every table is still whole (previous or new), "
    "but a table just published may lack its identity alignment: run the copy again"
)


class Interrupted(SluiceError):
    """The run was asked to stop and did, at a safe point; the message says what state the
    target is in. Exit code 130, as a shell reports a command stopped by Ctrl-C."""

    exit_code = 130


class Cancel:
    """A one-way flag: once set, every part of the run that checks it stops at its next safe
    point. `reason` says who asked (a signal's name, a failure elsewhere in the run)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "interrupted") -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once when cancelled; True when cancelled."""
        return self._event.wait(seconds)

    def check(self, what: str) -> None:
        """Raise `Interrupted` naming `what` was stopped, when cancelled."""
        if self._event.is_set():
            raise Interrupted(f"{what}: interrupted ({self.reason})")


@contextlib.contextmanager
def on_signals(
    cancel: Cancel | None = None, *, chain: bool = False, hard_exit: str | None = None
) -> Iterator[Cancel]:
    """Set `cancel` (a new one when None) on SIGINT or SIGTERM while the block runs.

    `chain`: also call the handler that was installed before (an Airflow task runner's, which
    calls the operator's on_kill), so the host still learns of the signal. `hard_exit`: a
    second signal prints this line and ends the process at once (exit 130), for a person who
    does not want to wait for the safe point. Outside the main thread (where Python allows no
    handlers) the token is returned unchanged and signals keep their handlers."""
    cancel = cancel or Cancel()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def handler(signum: int, frame) -> None:
        if cancel.cancelled and hard_exit is not None:
            _exit_now(hard_exit)
        cancel.cancel(signal.Signals(signum).name)
        before = previous.get(signum)
        if chain and callable(before) and before is not signal.default_int_handler:
            before(signum, frame)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)
    try:
        yield cancel
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before if before is not None else signal.SIG_DFL)


def _exit_now(line: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\x1b[?25h")  # a live progress display hid the cursor
    sys.stderr.write(f"\n{line}\n")
    sys.stderr.flush()
    os._exit(130)


def raise_keyboard_interrupt(signum: int, frame) -> None:
    """SIGTERM handled like Ctrl-C by commands without safe points of their own."""
    raise KeyboardInterrupt


def ignore_interrupts_in_child() -> None:
    """A worker process's initializer: SIGINT (a terminal's Ctrl-C reaches the whole process
    group) is its parent's to handle; the parent stops and ends its workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while worker processes are started: the mask survives
    exec, so a Ctrl-C during a spawned child's start-up (before its initializer ignores
    SIGINT) waits, and is then discarded by the child, instead of a traceback from a
    half-imported interpreter. The parent receives it once the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def completed(futures: list[Future], cancel: Cancel, what: str) -> Iterator[Future]:
    """Futures as they complete; `Interrupted` as soon as `cancel` is set (polled: a signal
    handler only sets the flag, and this thread may be the one waiting)."""
    pending = set(futures)
    while pending:
        if cancel.cancelled:
            raise Interrupted(f"interrupted ({cancel.reason}): {what}")
        done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        yield from done


def stop_pool(pool: Executor) -> None:
    """Drop queued work and end a pool now: threads stop at their own next check of the
    run's `Cancel`; worker processes (which ignore SIGINT) are terminated and joined here,
    so none outlives the caller (nor, through them, multiprocessing's resource tracker)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in processes:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join(5)
    # let the pool's manager thread see its workers gone and close its wakeup pipe: an exit
    # before it has would have the interpreter write to that pipe (a BrokenPipeError printed
    # at exit, Python 3.11)
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        manager.join(5)
