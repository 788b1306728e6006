"""Liveness: how long sluice waits on a connection before it gives up on it.

A network can stop carrying bytes without ever saying so (a dropped NAT entry, a host that
failed over, a frozen relay): no RST arrives, and a driver blocked in a read waits forever.
Three figures bound every wait, per endpoint (`Timeouts`, carried by its `DbUrl`):

* `connect`: establishing a connection (TCP, TLS, login).
* `stall`: no byte in either direction while sluice waits on the server. Each dialect hands
  it to what its driver offers (`Dialect.connect_timeouts`, `Dialect.stream_timeouts`:
  libpq keepalives and `tcp_user_timeout`, PyMySQL read/write timeouts, pymssql's query
  timeout), and a `Watchdog` covers what a driver cannot see: while a chunk streams, a
  connection that moved nothing for `stall` seconds is severed, so the blocked call fails
  and the chunk is retried from its start on a new connection.

The retry deadline (how long a failing chunk keeps being retried) lives with the retry
policy (`sluice.copy.transfer.TransferOptions`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_STALL_TIMEOUT = 60.0
DEFAULT_RETRY_DEADLINE = 300.0


@dataclass(frozen=True)
class Timeouts:
    """Seconds sluice waits for one endpoint: to connect, and with no byte moving."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    stall: float = DEFAULT_STALL_TIMEOUT

    def problems(self) -> list[str]:
        found = []
        if not self.connect > 0:
            found.append(f"connect timeout must be > 0 seconds, got {self.connect:g}")
        if not self.stall >= 1:
            found.append(f"stall timeout must be >= 1 second, got {self.stall:g}")
        return found

    @staticmethod
    def options_problems(timeouts: Timeouts | None, retry_deadline: float) -> list[str]:
        """What is wrong with an options class's timeouts and retry deadline (copy, verify
        and sync take the same two)."""
        found = [] if timeouts is None else timeouts.problems()
        if retry_deadline < 0:
            found.append(f"retry deadline must be >= 0 seconds, got {retry_deadline:g}")
        return found

    @property
    def keepalive(self) -> tuple[int, int, int]:
        """(idle, interval, count) seconds of TCP keepalive: a peer that stopped answering
        is declared dead within about two thirds of the stall timeout."""
        idle = max(1, int(self.stall // 3))
        interval = max(1, int(self.stall // 9))
        return idle, interval, 3


def keep_alive(sock: socket.socket, timeouts: Timeouts) -> None:
    """TCP keepalive and TCP_USER_TIMEOUT on a driver's socket (for drivers without options
    of their own): a dead peer, or data it never acknowledges, ends the connection."""
    idle, interval, count = timeouts.keepalive
    opts = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", interval),
                        ("TCP_KEEPCNT", count),
                        ("TCP_USER_TIMEOUT", int(timeouts.stall * 1000))):  # fmt: skip
        if hasattr(socket, name):  # Linux names; other systems keep their defaults
            opts.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    for level, opt, value in opts:
        with contextlib.suppress(OSError):  # a Unix socket has no TCP options
            sock.setsockopt(level, opt, value)


def sever_fd(fd: int) -> None:
    """Shut a socket down under whoever is blocked on it: its read returns end-of-file at
    once, on a frozen network too (a protocol-level cancel would wait on that network)."""
    if fd < 0:
        return
    dup = socket.socket(fileno=os.dup(fd))
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected any more: nothing is blocked on it
    finally:
        dup.close()


class _Side:
    __slots__ = ("name", "stall", "sever", "since", "busy", "alive")

    def __init__(self, name: str, stall: float, sever: Callable[[], None],
                 alive: Callable[[], bool] | None = None):  # fmt: skip
        self.name, self.stall, self.sever, self.alive = name, stall, sever, alive
        self.since = time.monotonic()
        self.busy = True


def _working(side: _Side) -> bool:
    try:
        return bool(side.alive())
    except Exception as exc:  # the server cannot be asked either: as good as stalled
        log.debug("could not ask whether the %s is at work (%s)", side.name, type(exc).__name__)
        return False


class Watchdog:
    """Watches the connections of one chunk try. A side is busy while sluice waits on its
    server (a driver call), idle while it waits on the other side (a full or empty channel);
    a side busy for its stall timeout with nothing moving is severed (`stalled` names it).

    Progress is what a driver hands over or takes: a block, a batch of rows. Use it as a
    context manager; `watch` each connection, mark progress with `touch`, and wrap waits on
    the other side in `waiting`."""

    def __init__(self) -> None:
        self._sides: dict[str, _Side] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stalled: str | None = None
        self.stalled_for = 0.0

    def watch(self, name: str, stall: float, sever: Callable[[], None],
              alive: Callable[[], bool] | None = None) -> None:  # fmt: skip
        """Watch side `name`. `alive`, for a connection that may rightly stay silent (a key
        build runs for minutes without a byte), asks the server on a connection of its own
        whether the session is still working on its statement: then the wait goes on."""
        with self._lock:
            self._sides[name] = _Side(name, stall, sever, alive)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
            self._thread.start()

    def touch(self, name: str) -> None:
        side = self._sides.get(name)
        if side is not None:
            side.since, side.busy = time.monotonic(), True

    def rest(self, name: str) -> None:
        side = self._sides.get(name)
        if side is not None:
            side.busy = False

    @contextlib.contextmanager
    def waiting(self, name: str) -> Iterator[None]:
        """Time spent here is the other side's: it does not count against `name`."""
        self.rest(name)
        try:
            yield
        finally:
            self.touch(name)

    def pulled(self, name: str, items: Iterable[T]) -> Iterator[T]:
        """`items` (a channel), with the waits for each next item not counted against `name`."""
        it = iter(items)
        while True:
            with self.waiting(name):
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item

    def progressed(self, name: str, items: Iterable[T]) -> Iterator[T]:
        """`items` (a driver's stream), each one marking progress on `name`."""
        for item in items:
            self.touch(name)
            yield item

    def _run(self) -> None:
        while not self._stop.wait(self._tick()):
            now = time.monotonic()
            with self._lock:
                sides = list(self._sides.values())
            for side in sides:
                if side.busy and now - side.since >= side.stall and self.stalled is None:
                    if side.alive is not None and _working(side):
                        side.since = time.monotonic()  # the server is at work: no stall
                        continue
                    self.stalled, self.stalled_for = side.name, now - side.since
                    log.warning("the %s moved no byte for %.0fs: dropping its connection",
                                side.name, self.stalled_for)  # fmt: skip
                    try:
                        side.sever()
                    except Exception as exc:  # best effort: the driver's own timeouts remain
                        log.warning("could not drop the %s connection: %s", side.name, exc)

    def _tick(self) -> float:
        stalls = [s.stall for s in self._sides.values()] or [1.0]
        return max(0.05, min(1.0, min(stalls) / 10))

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
