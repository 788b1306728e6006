"""Rows rendered by SQL Server itself as PostgreSQL's CSV: the SQL Server -> PostgreSQL read
path without a Python object per value (ADR 0028, as dialects/mysql_export does for MySQL).

pymssql builds a Python object for every value of every row (an int, a str, a datetime
cracked field by field), and psycopg then takes each one apart again for binary COPY. Here the
server renders each row of a keyset chunk as one line of the CSV that `COPY ... (FORMAT csv)`
reads, pymssql hands over one str per row, and a block of lines is encoded to UTF-8 once.

The line is nvarchar(max) (text columns are UTF-16 on the server; never cast to varbinary,
which would hand over UTF-16 bytes): pymssql decodes it to str like any nvarchar value. Every
field is converted to nvarchar(max) before it is joined, so no part of a line is cut at 8000
bytes (REPLACE and `+` of shorter types truncate silently). Fields are joined with `+`, not
CONCAT: CONCAT reads NULL as '', so a rendering that failed would store NULL; `+` makes the
whole line NULL (pymssql's sessions run with CONCAT_NULL_YIELDS_NULL ON), which rejects the
chunk. A SQL NULL is written as nothing: CSV's unquoted empty field.

Only kinds whose text PostgreSQL parses to exactly what the decoded path (pymssql's value,
then psycopg's binary COPY) stores are rendered (`CSV_KINDS`). A value PostgreSQL refuses
(text holding U+0000) rejects the chunk, which is then copied again as decoded values, where
`--nul` applies or the error names the row; so does a statement this server cannot compile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sluice.core.errors import RawRejected
from sluice.core.schema import Table
from sluice.core.types import Kind
from sluice.dialects.mssql_driver import message_of

FORMAT = "postgresql-csv"

# Each kind's rendering, as CONVERT(nvarchar(max), <column>, <style>) unless noted; the
# reasoning for each is the decoded path's value (pymssql 2.4.6's `convert_db_value`, FreeTDS
# 1.5's `tds_datecrack`) next to Microsoft's documentation of CAST and CONVERT:
# * integers, bit ('1'/'0', which PostgreSQL's boolean reads), decimal/numeric (every digit
#   of the declared scale, never an exponent): the plain conversion is the exact value;
# * money/smallmoney: style 2, four decimals (style 0 would round to two);
# * float and real: style 3, 17 significant digits (SQL Server 2016 and later, as the
#   dialect's DROP TABLE IF EXISTS already needs): "every distinct value converts to a
#   distinct string", enough digits for PostgreSQL's correctly rounded float8in/float4in to
#   land on the same double/single pymssql reads; a negative zero keeps its sign in text;
# * date: style 23 (yyyy-mm-dd); datetime, smalldatetime, datetime2: style 121
#   (yyyy-mm-dd hh:mi:ss[.fff...]). A legacy datetime's 1/300 s tick is printed rounded to
#   the millisecond, as FreeTDS rounds it ((ticks * 1000 + 150) / 300); datetime2's digits
#   are printed as stored. datetime2(7) keeps 26 characters (6 digits): pymssql truncates the
#   100 ns digit (`nanosecond // 1000`) and so does LEFT (such columns are planned lossy and
#   stay decoded anyway);
# * uniqueidentifier: its 36-character form, which pymssql's UUID (bytes_le) equals;
# * (var)binary, image: '\x' and style 2's hex, bytea's hex input (backslash is not special
#   in CSV);
# * (n)char, (n)varchar, (n)text: quoted, '"' doubled, so commas, newlines and backslashes
#   need nothing; matched under a binary collation, so no width- or kana-insensitive
#   collation takes U+FF02 (a full-width quote) for '"'. varchar reaches Unicode through the
#   server's own code-page conversion where the decoded path uses FreeTDS's iconv: the same
#   character for every byte the code page defines.
# Left out (decoded as before): time and datetimeoffset (not in PostgreSQL's import list; the
# offset and time(7)'s 100 ns need their own reasoning), xml and rowversion (not in that list
# either), and SQL Server's CLR types (hierarchyid, geometry, geography).
CSV_KINDS = frozenset({
    Kind.BOOLEAN, Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL,
    Kind.MONEY, Kind.REAL, Kind.DOUBLE, Kind.STRING, Kind.BINARY, Kind.DATE, Kind.DATETIME,
    Kind.UUID,
})  # fmt: skip
_STYLES = {Kind.MONEY: 2, Kind.REAL: 3, Kind.DOUBLE: 3, Kind.DATE: 23, Kind.DATETIME: 121}
_DATETIME_CHARS = 26  # yyyy-mm-dd hh:mi:ss.ffffff: microseconds, as Python keeps them
_BINARY_COLLATION = "Latin1_General_BIN2"  # code point order and equality
_NEWLINE = "NCHAR(10)"  # no literal control character in the statement
_GROUP = 8  # terms summed flat; larger sums are nested in halves (shallow parse trees)

# the server could not compile the statement: the chunk goes the decoded way instead
# 191: nested too deeply; 8632: expression services limit; 281: not a valid style number
# (float style 3 before SQL Server 2016)
UNCOMPILED = frozenset({191, 281, 8632})

BLOCK_BYTES = 1 << 20  # rows fetched at a time aim at about this many characters
MAX_FETCH = 500


def csv_field(column: str, kind: Kind, precision: int | None = None) -> str:
    """One field of the line, nvarchar(max) in every branch: nothing for NULL."""
    if kind is Kind.STRING:
        text = f"CAST({column} AS nvarchar(max)) COLLATE {_BINARY_COLLATION}"
        value = f"""N'"' + REPLACE({text}, N'"', N'""') + N'"'"""
    elif kind is Kind.BINARY:
        hexed = f"CONVERT(varchar(max), CAST({column} AS varbinary(max)), 2)"
        value = f"N'\\x' + CONVERT(nvarchar(max), {hexed})"
    elif kind in _STYLES:
        value = f"CONVERT(nvarchar(max), {column}, {_STYLES[kind]})"
        if kind is Kind.DATETIME and (precision or 0) > 6:
            value = f"LEFT({value}, {_DATETIME_CHARS})"
    elif kind in CSV_KINDS:
        value = f"CONVERT(nvarchar(max), {column})"
    else:
        raise NotImplementedError(f"{kind.value} is not rendered as CSV by SQL Server")
    return f"CASE WHEN {column} IS NULL THEN N'' ELSE {value} END"


def _sum(terms: list[str]) -> str:
    """`a + b + ...`, nested in halves past `_GROUP` terms so that a table of a thousand
    columns is not a parse tree two thousand levels deep. Every field is nvarchar(max), so
    each part of the sum is too (a separator alone is joined to one that is)."""
    if len(terms) <= _GROUP:
        return " + ".join(terms)
    half = len(terms) // 2
    return f"({_sum(terms[:half])}) + ({_sum(terms[half:])})"


def csv_select_sql(d: Any, table: Table, lo: Any, hi: Any) -> tuple[str, list[Any]]:
    """The chunk's rows as CSV lines, one nvarchar(max) per row; no ORDER BY (a chunk is
    loaded as a set)."""
    terms: list[str] = []
    for c in table.columns:
        if terms:
            terms.append("N','")
        terms.append(csv_field(d.quote(c.name), c.type.kind, c.type.precision))
    terms.append(_NEWLINE)
    where, params = d.read_predicate(table, lo, hi)
    return d.finalize(f"SELECT {_sum(terms)} FROM {d.relation_sql(table)}{where}"), params


def csv_read(d: Any, conn: Any, table: Table, lo: Any, hi: Any) -> Iterator[bytes]:
    """`MssqlDialect.raw_read`: the chunk's lines streamed like its `read_range`. A statement
    the server cannot compile (too deep, a style it lacks) sends the chunk the decoded way."""
    sql, params = csv_select_sql(d, table, lo, hi)
    cur = conn.cursor()
    try:
        cur.execute(sql, d.bind(params))
    except Exception as exc:
        number = message_of(exc)[0]
        if number not in UNCOMPILED:
            raise
        raise RawRejected(f"{table.name}: SQL Server cannot render its rows as CSV "
                          f"(message {number})") from None  # fmt: skip
    yield from csv_blocks(cur, table)


def csv_blocks(cursor: Any, table: Table) -> Iterator[bytes]:
    """Blocks of whole lines, UTF-8, from an executed cursor: one row first, then batches
    sized to about `BLOCK_BYTES` by the lines seen (a table of huge values row by row, so
    memory stays bounded). A NULL line (a field whose rendering failed) or text UTF-8 cannot
    encode (an unpaired surrogate) rejects the chunk. Lines are not checked for their final
    newline: pymssql's sessions set TEXTSIZE to 2 GiB, past any row it could hold."""
    size = 1
    while batch := cursor.fetchmany(size):
        try:
            text = "".join([row[0] for row in batch])
        except TypeError:
            raise RawRejected(f"{table.name}: a row came back NULL, not as a CSV line") from None
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise RawRejected(f"{table.name}: text that UTF-8 cannot encode") from None
        yield data
        size = max(1, min(MAX_FETCH, BLOCK_BYTES * len(batch) // max(1, len(text))))
