"""pymssql's quirks, kept apart from the SQL the dialect generates: the values the server
refuses, a connection whose cursors let status messages pass, and the split of a row stream
between bulk copy and the INSERT path.

Driver facts relied on are listed in `mssql`'s docstring.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

BCP_BATCH_ROWS = 10_000  # rows per bulk-copy batch sent to the server
HELD_ROWS = 1_000  # rows the bulk path may hold back for the INSERT path at once

# Server messages that report success: pymssql raises for them all the same.
STATUS_MESSAGES = frozenset({15477})  # sp_rename: "Caution: Changing any part of ..."

# Which message numbers are retried: sluice.dialects.faults.MSSQL_NUMBERS.

# A value the server refused (see `rejects_value`).
VALUE_ERRORS = frozenset({242, 245, 2628, 8114, 8115, 8152})


class Split:
    """Rows in order: those bulk copy carries faithfully are yielded, the others parked in
    `held` (at most HELD_ROWS at a time, so memory stays bounded) for the INSERT path."""

    def __init__(self, rows: Iterable[tuple], prepare, safe):
        self.source, self.prepare, self.safe = iter(rows), prepare, safe
        self.held: list[tuple] = []
        self.sent = 0

    @property
    def filled(self) -> bool:
        """The segment ended because `held` is full, not because the rows ran out."""
        return len(self.held) >= HELD_ROWS

    def segment(self) -> Iterator[tuple]:
        for row in self.source:
            row = self.prepare(row)
            if self.safe(row):
                self.sent += 1
                yield row
            else:
                self.held.append(row)
                if len(self.held) >= HELD_ROWS:
                    return


def chain(first: tuple, rest: Iterator[tuple]) -> Iterator[tuple]:
    yield first
    yield from rest


def message_of(exc: BaseException) -> tuple[int | None, int | None]:
    """(message number, severity) of a pymssql error, from the exception or its cause."""
    for e in (exc, exc.__cause__, exc.__context__):
        if e is None:
            continue
        number = getattr(e, "number", None)
        if isinstance(number, int) and number:  # _mssql.MSSQLDatabaseException
            return number, getattr(e, "severity", None)
        args = getattr(e, "args", ())
        if len(args) == 1 and isinstance(args[0], tuple):  # the same, built by hand
            args = args[0]
        if args and isinstance(args[0], int):  # pymssql.Error(number, message)
            return args[0], _severity(args[1] if len(args) > 1 else b"")
    return None, None


def _severity(message: Any) -> int | None:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    found = [int(s) for s in re.findall(r"severity (\d+)", text)]
    return max(found) if found else None


class Connection:
    """A pymssql connection whose cursors let status messages pass (`STATUS_MESSAGES`)."""

    def __init__(self, raw: Any):
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def cursor(self) -> Cursor:
        return Cursor(self._raw.cursor())

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._raw.close()


class Cursor:
    def __init__(self, raw: Any):
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._raw)

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._raw.close()

    def execute(self, operation: str, *params: Any) -> None:
        try:
            self._raw.execute(operation, *params)
        except Exception as exc:
            if message_of(exc)[0] not in STATUS_MESSAGES:
                raise
