"""What a chunk try does about a stalled connection (sluice.core.liveness): the error that
says so, and ending the dropped session on the server.

The sessions a try abandoned are remembered per server, so that a publish on that server
first waits for them to be ended (`settle`), and, if a lock wait still times out, ends the
ones that could not be ended then and tries once more (`end_abandoned`): a frozen session's
lock on a staging table is sluice's own doing, never a reason to wait forever."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from sluice.core.faults import CONNECTION_LOST, chunk_part, fault_error, where
from sluice.core.liveness import Watchdog
from sluice.core.urls import DbUrl, redact_all

log = logging.getLogger(__name__)


class Chunk(Protocol):
    """A chunk as these functions name it (`plan.Chunk`; not imported: the plan's statistics
    are read under `watched_statements`)."""

    table: str

    @property
    def label(self) -> str: ...


# per server (where(url)): the threads ending abandoned sessions, and the sessions that
# could not be ended (still alive, so their ids are still theirs)
_ending: dict[str, list[threading.Thread]] = {}
_unended: dict[str, set] = {}
_lock = threading.Lock()


def end_session(dialect, url: DbUrl, session, chunk: Chunk | str) -> None:
    """Best effort, in the background (over a frozen network it waits a connect timeout):
    the dropped connection's session ends on the server too, and its locks with it. One
    that could not be ended is remembered for `end_abandoned`."""
    if session is None:
        return
    place = where(url)
    label = chunk if isinstance(chunk, str) else chunk.label

    def end() -> None:
        try:
            dialect.end_session(url, session)
        except Exception as exc:  # the server will end it when it notices; the retry goes on
            log.warning("%s: could not end the stalled session %s: %s", label, session,
                        redact_all(" ".join(str(exc).split())))  # fmt: skip
            with _lock:
                _unended.setdefault(place, set()).add(session)

    thread = threading.Thread(target=end, name=f"end-{session}", daemon=True)
    with _lock:
        _ending.setdefault(place, []).append(thread)
    thread.start()


def settle(url: DbUrl, timeout: float) -> None:
    """Wait, `timeout` seconds at most, for the sessions abandoned on `url`'s server to be
    ended (in the background, by `end_session`): their locks go with them."""
    end = time.monotonic() + timeout
    with _lock:
        threads = _ending.get(where(url), [])
        threads[:] = [t for t in threads if t.is_alive()]
        waiting = list(threads)
    for thread in waiting:
        thread.join(max(0.0, end - time.monotonic()))


def end_abandoned(dialect, url: DbUrl) -> int:
    """End, now, the sessions abandoned on `url`'s server that could not be ended then (a
    lock wait timed out: one of them may hold the lock); returns how many were ended (0:
    the holder is not one of sluice's)."""
    with _lock:
        sessions = _unended.pop(where(url), set())
    ended = 0
    for session in sorted(sessions, key=str):
        try:
            dialect.end_session(url, session)
            ended += 1
        except Exception as exc:
            log.warning("could not end the abandoned session %s: %s", session,
                        redact_all(" ".join(str(exc).split())))  # fmt: skip
    return ended


def stalled_error(chunk: Chunk, watch: Watchdog, url: DbUrl, side: str | None = None):
    """The retryable error of a try whose connection the watchdog dropped."""
    err = stall_error(watch, url, chunk.label, side)
    return err.with_facts(table=chunk.table, chunk=chunk_part(chunk.label, chunk.table))


def stall_error(watch: Watchdog, url: DbUrl, label: str, side: str | None = None):
    """The (retryable) error of a connection the watchdog dropped, for `label`'s work."""
    side = side or watch.stalled
    what = (f"no byte moved on the connection to the {side} for {watch.stalled_for:.0f}s "
            f"(stall timeout {url.timeouts.stall:g}s): it stalled and was dropped")  # fmt: skip
    return fault_error(CONNECTION_LOST, f"{label}: {what}", side=side, url=url, what=what)


@contextlib.contextmanager
def watched(
    dialect, url: DbUrl, conn, side: str, label: str, table: str | None = None
) -> Iterator[Watchdog]:
    """A stall watchdog over a connection whose statements may rightly keep it silent for
    long (publish's key builds and swap, finish, sync's apply): past the stall timeout the
    server is asked whether the session is still at work (`Dialect.session_working`); if
    not, or if it cannot be asked, the connection is dropped, its session ended, and the
    blocked statement fails as a stall (`stall_error`). Waits on anything but this server
    go inside `watch.waiting(side)`. Engines that name no session are not watched."""
    watch = Watchdog()
    session = None
    with contextlib.suppress(Exception):
        session = dialect.session_id(conn)
    if session is not None:
        watch.watch(side, url.timeouts.stall, lambda: dialect.sever(conn),
                    lambda: dialect.session_working(url, session))  # fmt: skip
    try:
        yield watch
    except Exception:
        if watch.stalled:
            end_session(dialect, url, session, label)
            raise stall_error(watch, url, label).with_facts(table=table) from None
        raise
    finally:
        watch.close()


@contextlib.contextmanager
def watched_statements(
    dialect, url: DbUrl, conn, side: str, label: str, table: str | None = None
) -> Iterator[Any]:
    """`watched`, for a connection that waits on others between its statements (the
    plan's statistics, sync's delete pass reading both sides in turn): yields `conn`
    wrapped so that its side counts as busy only inside a statement or a fetch, never while
    sluice works elsewhere. A stall inside one ends as in `watched`."""
    with watched(dialect, url, conn, side, label, table) as watch:
        watch.rest(side)
        yield _Busy(conn, watch, side)


class _Busy:
    """A DB-API connection (or cursor) whose calls mark `side` busy on `watch` while they run."""

    _CALLS = frozenset({"execute", "executemany", "fetchone", "fetchmany", "fetchall",
                        "commit", "rollback", "cursor"})  # fmt: skip

    def __init__(self, inner, watch: Watchdog, side: str) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_watch", watch)
        object.__setattr__(self, "_side", side)

    def __setattr__(self, name: str, value: Any) -> None:  # conn.read_only = True ...
        setattr(self._inner, name, value)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name not in self._CALLS or not callable(found):
            return found

        def call(*args, **kwargs):
            self._watch.touch(self._side)
            try:
                out = found(*args, **kwargs)
            finally:
                self._watch.rest(self._side)
            # a cursor (psycopg's connection.execute returns one) is watched the same way
            cursor = name in ("cursor", "execute") and hasattr(out, "fetchone")
            return _Busy(out, self._watch, self._side) if cursor else out

        return call

    def __iter__(self):
        it = iter(self._inner)
        while True:
            self._watch.touch(self._side)
            try:
                row = next(it)
            except StopIteration:
                return
            finally:
                self._watch.rest(self._side)
            yield row

    def __enter__(self):
        self._inner.__enter__()
        return self

    def __exit__(self, *exc):
        return self._inner.__exit__(*exc)
