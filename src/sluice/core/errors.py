"""Errors sorted by what the caller should do about them.

* `TransientError`: retry the same step (connection reset, deadlock, serialization failure).
* `TerminalError`: stop and explain (bad URL, unreachable server, missing privilege).
* `DataError`: a value cannot be stored faithfully; names table, column and row key.

Messages never contain secrets: URLs are rendered through `sluice.core.urls.mask`.
"""

from __future__ import annotations

from typing import Any


class SluiceError(Exception):
    """Base of every error sluice raises on purpose; the CLI prints these without a traceback.

    Its `str()` is the detail for the log; the facts below, where known, make the one line a
    person reads (`sluice.core.faults.failure_line`)."""

    exit_code = 1
    fault: Any = None  # a sluice.core.faults.Fault
    side: str | None = None  # "source" or "target"
    host: str | None = None  # host:port/database, never a user or password
    table: str | None = None
    chunk: str | None = None  # "#5 (10, 20]"
    what: str | None = None  # plain words, when more precise than the fault's own
    tries: int | None = None
    target_state: str | None = None  # untouched; or which tables are published

    FACTS = ("fault", "side", "host", "table", "chunk", "what", "tries", "target_state")

    def facts(self) -> dict[str, Any]:
        """The facts known, to carry over to an error raised in this one's place."""
        return {n: getattr(self, n) for n in self.FACTS if getattr(self, n) is not None}

    def with_facts(self, **facts: Any) -> SluiceError:
        """Set the facts not known yet (the innermost layer knows best); returns self."""
        for name, value in facts.items():
            if value is not None and getattr(self, name, None) is None:
                setattr(self, name, value)
        return self


class ConfigError(SluiceError):
    """The user asked for something invalid (bad flag, bad URL, scale <= 0)."""

    exit_code = 2


class TerminalError(SluiceError):
    """Retrying will not help: explain and stop."""


class RawRejected(SluiceError):
    """The target's bulk loader took a chunk's raw bytes only with warnings (a value it would
    have changed): nothing is kept, and the chunk is copied again through decoded values,
    which either store it exactly or fail naming the table, column and key."""


class ValueRejected(TerminalError):
    """The target (or its driver) refused a value without saying which row held it: the
    chunk is read again from the source and checked value by value, on this failure path
    only, to name the table, column and key (`sluice.core.hostile.diagnose`)."""


class EmptySource(TerminalError):
    """The source holds no tables (and the caller did not say that was expected)."""


class TransientError(SluiceError):
    """The same step may succeed if retried."""


class ConnectError(TerminalError):
    """A database could not be reached or refused the login."""


class ServerUnavailable(ConnectError):
    """The server did not answer in time, refused the connection, or is starting or shutting
    down: a chunk retries it within its retry deadline (a restart is survived); anywhere
    else it is a `ConnectError` like any other. A refused login is not one of these."""


class MissingDriver(ConfigError):
    def __init__(self, engine: str, module: str, extra: str):
        super().__init__(
            f"the {engine} driver ({module}) is not installed: pip install 'sluice[{extra}]'"
        )


class InputFileError(SluiceError):
    """A file given as input is missing or malformed; names the file and line."""

    def __init__(self, path: Any, message: str, line: int | None = None):
        where = f"{path}" if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class DataError(SluiceError):
    """A value cannot be stored faithfully: names table, column and key."""

    def __init__(self, table: str, column: str | None, key: Any, message: str):
        where = f"table {table!r}"
        if column:
            where += f", column {column!r}"
        if key is not None:
            where += f", key {key!r}"
        super().__init__(f"{where}: {message}")
        self.table, self.column, self.key, self.reason = table, column, key, message


class UnmappableType(DataError):
    def __init__(self, table: str, column: str, source_type: str, target: str, *,
                 more: str = "", hint: str = ""):  # fmt: skip
        why = f"type {source_type} has no {target} equivalent"
        super().__init__(table, column, None, why + (f" ({hint})" if hint else "") + more)
        self.source_type, self.target, self.hint = source_type, target, hint
