"""Rows rendered by MySQL itself as PostgreSQL's CSV: the MySQL -> PostgreSQL read path
without a Python object per value (ADR 0028).

PyMySQL parses the protocol in pure Python: reading a table as values costs about twice what
reading the same rows as one string each does, before any value is converted or encoded
again for COPY. So the server renders each row as one line of the CSV that PostgreSQL's
`COPY ... (FORMAT csv)` reads, using the same text the protocol would have carried for each
value (its own conversion of numbers, dates and strings), and the bytes pass through.

Only kinds whose text PostgreSQL parses to exactly what the decoded path stores are rendered
(`CSV_KINDS`); a value PostgreSQL refuses (a zero date, a NUL character, a line longer than
`max_allowed_packet`) rejects the chunk, which is then copied again as decoded values, where
the user's `--nul` and `--zero-dates` choices apply or the error names the row.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from sluice.core.errors import RawRejected
from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType
from sluice.dialects.mysql_driver import first_values

FORMAT = "postgresql-csv"
# not FLOAT (Kind.REAL): CONCAT prints it with 6 significant digits, where the protocol
# carries every digit (16777217 would arrive as 16777200); the conformance suite caught it
CSV_KINDS = frozenset({
    Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL, Kind.DOUBLE,
    Kind.STRING, Kind.JSON, Kind.BINARY, Kind.DATE, Kind.DATETIME, Kind.UUID,
})  # fmt: skip
_QUOTED = (Kind.STRING, Kind.JSON)
# '\n' and '\x' as hex literals: no sql_mode changes how the server reads them
_NEWLINE, _HEX_PREFIX = "X'0A'", "X'5C78'"
_UTF8 = re.compile(r"CHARACTER SET utf8(mb[34])?\b", re.IGNORECASE)
ROWS_PER_FETCH = 500  # the reader gathers blocks up to its batch size in bytes


def csv_field(column: str, t: SqlType) -> str:
    """One field: NULL as nothing (CSV's NULL), text quoted with quotes doubled (so commas,
    newlines and backslashes need nothing), bytes as bytea's hex input."""
    kind = t.kind
    if kind in _QUOTED:
        # text in another character set is converted to UTF-8 first (its bytes would reach
        # PostgreSQL as they are); UTF-8 text already is (CONVERT costs a copy of each value)
        utf8 = kind is Kind.JSON or bool(t.native and _UTF8.search(t.native))
        text = column if utf8 else f"CONVERT({column} USING utf8mb4)"
        value = f"CONCAT('\"', REPLACE({text}, '\"', '\"\"'), '\"')"
    elif kind is Kind.BINARY:
        value = f"CONCAT({_HEX_PREFIX}, HEX({column}))"
    else:  # numbers, dates, UUIDs: the server's own text, as the protocol carries it
        return f"IFNULL({column}, '')"
    # not IFNULL of the rendering: a value whose rendering is longer than max_allowed_packet
    # comes back NULL from CONCAT, REPLACE or HEX, and must reject the line, not read as NULL
    return f"IF({column} IS NULL, '', {value})"


def csv_select_sql(d: Any, table: Table, lo: Any, hi: Any) -> tuple[str, list[Any]]:
    """The chunk's rows as CSV lines, one binary string per row (no decoding on the way)."""
    fields = ", ',', ".join(csv_field(d.quote(c.name), c.type) for c in table.columns)
    where, params = d.read_predicate(table, lo, hi)
    line = f"CAST(CONCAT({fields}, {_NEWLINE}) AS BINARY)"
    return d.finalize(f"SELECT {line} FROM {d.relation_sql(table)}{where}"), params


def csv_blocks(cursor: Any, table: Table) -> Iterator[bytes]:
    """Blocks of whole lines from an executed unbuffered cursor. A line longer than the
    server's `max_allowed_packet` comes back as NULL (CONCAT's answer, with a warning): the
    chunk is rejected, to be read again value by value."""
    lines = first_values(cursor)
    while batch := list(itertools.islice(lines, ROWS_PER_FETCH)):
        try:
            yield b"".join(batch)
        except TypeError:
            raise RawRejected(
                f"{table.name}: a row is longer than the server's max_allowed_packet as one line"
            ) from None
