"""Load a public Stack Exchange data dump (Posts.xml, Users.xml, ...) into StackOverflow2010.

Three stages, each a generator so a multi-GB file streams in bounded memory:

* `find_files` maps tables to the dump's files (names matched case-insensitively);
* `read_rows` feeds a file to expat in 256 KiB chunks and yields each `<row>`'s
  attributes with its line number, so every error can name file and line;
* `convert_rows` turns attribute text into Python values by the column's neutral
  type and yields tuples in column order, ready for `load_tables`.

Nothing is changed or dropped quietly: a value that does not convert, a string
longer than its column, or an absent NOT NULL value stops the import with the
file, line, row Id and attribute; the few NOT NULL values real dumps leave out
are filled from `NOT_NULL_DEFAULTS` and counted in the log; attributes the
schema has no column for are listed in a warning with their value counts.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.parsers import expat

from sluice.core.errors import ConfigError, InputFileError, TerminalError
from sluice.core.progress import Reporter
from sluice.core.schema import Table, order_by_references
from sluice.core.types import Kind
from sluice.core.urls import DbUrl
from sluice.datasets.loader import LoadResult, load_tables
from sluice.datasets.stackoverflow import sources
from sluice.datasets.stackoverflow.extras import extra_attributes, with_extra_columns
from sluice.datasets.stackoverflow.generate import VOTE_TYPES
from sluice.datasets.stackoverflow.schema import FOREIGN_KEYS, TABLE_NAMES, TABLES
from sluice.datasets.stackoverflow.sources import DUMP_FILES, DumpFile, as_dump_file

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 18  # 256 KiB: parsing speed is the same, buffered rows stay few
SHOWN_CHARS = 80

# NOT NULL columns whose attribute real dumps leave out, with the value StackOverflow2010 stores
# for them. Only counters belong here, where "absent" means "none yet":
# * Posts.ViewCount: answers (PostTypeId 2) and wiki posts carry no ViewCount; the database has 0.
# * Users.UpVotes/DownVotes/Views: left out for some users in some dumps; 0 in the database.
# * Tags.Count: left out for tags with no questions left in some dumps; 0 in the database.
# Every other absent NOT NULL attribute is an error. Each fill is counted and logged per column.
NOT_NULL_DEFAULTS: dict[tuple[str, str], Any] = {
    ("Posts", "ViewCount"): 0,
    ("Users", "UpVotes"): 0,
    ("Users", "DownVotes"): 0,
    ("Users", "Views"): 0,
    ("Tags", "Count"): 0,
}

_INTEGER = re.compile(r"-?[0-9]+")
_INT_RANGE = (-(2**31), 2**31 - 1)
_BOOLEANS = {"true": True, "false": False}
_ABSENT = object()


def import_dump(
    directory: str | Path,
    target: DbUrl,
    *,
    tables: Sequence[str] | None = None,
    replace: bool = False,
    keep_extra_columns: bool = False,
    reporter: Reporter | None = None,
) -> list[LoadResult]:
    """Create the StackOverflow2010 tables in `target` and fill them from the dump's XML files.

    `directory`: a folder of XML files, a folder of per-table .7z archives, or a site's .7z.
    With `tables=None` every table whose file exists is loaded, plus VoteTypes. With
    `keep_extra_columns`, attributes the schema has no column for become nullable columns
    (one more pass over each document first: `extras`).
    """
    tables = tables or None
    files = find_files(directory, tables)
    wanted = [t for t in TABLE_NAMES if t in files or (t == "VoteTypes" and _asks(tables, t))]
    chosen = [TABLES[t] for t in wanted]
    if keep_extra_columns:
        chosen = [
            with_extra_columns(
                t, extra_attributes(t, read_rows(files[t.name], t.name)), files[t.name]
            )
            if t.name in files
            else t
            for t in chosen
        ]
    ordered = order_by_references(chosen, FOREIGN_KEYS)

    def rows_for(table: Table) -> Iterator[tuple]:
        if table.name == "VoteTypes":
            return iter(VOTE_TYPES)
        return convert_rows(table, files[table.name])

    totals: dict[str, int | None] = {"VoteTypes": len(VOTE_TYPES)}  # dump sizes are unknown
    return load_tables(target, ordered, rows_for, totals=totals, replace=replace, reporter=reporter)


def _asks(tables: Sequence[str] | None, name: str) -> bool:
    return tables is None or name in tables


def find_files(location: str | Path, tables: Sequence[str] | None = None) -> dict[str, DumpFile]:
    """The document of each table to import (a file, or a member of a .7z archive); checked
    before any database is touched."""
    found = sources.find_files(location, _select(tables), strict=tables is not None)
    if not found and (tables is None or any(t in DUMP_FILES for t in tables)):
        known = ", ".join(DUMP_FILES.values())
        root = Path(location).expanduser()
        raise InputFileError(root, f"holds none of the dump files {known}{sources.hint(root)}")
    return found


def _select(tables: Sequence[str] | None) -> list[str]:
    """Requested tables that have a dump file; unknown names are an error listing the known ones."""
    if tables is None:
        return list(DUMP_FILES)
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ConfigError(
            f"unknown table(s) {', '.join(unknown)}; StackOverflow2010 has {', '.join(TABLE_NAMES)}"
        )
    return [t for t in DUMP_FILES if t in tables]


# --- extract: stream <row> elements ------------------------------------------------------------


def read_rows(source: DumpFile | Path, root_name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, attributes) of every `<row>` under `<root_name>`, parsing CHUNK_BYTES at a time.

    The document is read as UTF-8 whatever its declaration says: dumps are UTF-8, and a
    file that is not is reported as such rather than decoded some other way.
    """
    source = as_dump_file(source)
    parser = expat.ParserCreate(encoding="utf-8")
    pending: list[tuple[int, dict[str, str]]] = []
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        line = parser.CurrentLineNumber
        if depth == 2 and name == "row":
            pending.append((line, attrs))
        elif depth == 1 and name.lower() != root_name.lower():
            raise InputFileError(source, f"root element is <{name}>, expected <{root_name}>", line)
        elif depth > 1:
            raise InputFileError(
                source, f"unexpected element <{name}>: expected only <row .../>", line
            )

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*args: object) -> None:
        raise InputFileError(
            source, "a DOCTYPE is not expected in a dump file", parser.CurrentLineNumber
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    # the bytes fed last and the ones before (expat may hold a split character back), and the
    # offset of their first byte: where an error's byte offset is looked up
    window, window_start = b"", 0
    chunks = source.chunks()
    try:
        for chunk in _slices(chunks):
            if len(window) > CHUNK_BYTES:
                window_start += len(window) - CHUNK_BYTES
                window = window[-CHUNK_BYTES:]
            window += chunk
            try:
                parser.Parse(chunk, not chunk)
            except expat.ExpatError as exc:
                offset = parser.ErrorByteIndex
                at = window[offset - window_start :] if offset >= window_start else b""
                raise InputFileError(source, _xml_problem(exc, offset, at), exc.lineno) from None
            yield from pending
            pending.clear()
    finally:
        chunks.close()


def _slices(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """At most CHUNK_BYTES at a time (an archive hands over megabytes), then b"" for the end."""
    for data in chunks:
        for at in range(0, len(data), CHUNK_BYTES):
            yield data[at : at + CHUNK_BYTES]
    yield b""


def _xml_problem(exc: expat.ExpatError, offset: int, data: bytes) -> str:
    """Expat says "invalid token" for bad UTF-8 too: look at the bytes to tell the two apart."""
    data = data[:4]
    if data and not any(_decodes(data[:n]) for n in (1, 2, 3, 4)):
        return f"not valid UTF-8: byte 0x{data[0]:02X} at byte offset {offset}"
    return f"malformed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})"


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- convert: attribute text -> typed tuple ----------------------------------------------------


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError("is not an integer")
    value = int(text)
    if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
        raise ValueError("is outside the 32-bit integer range")
    return value


def _boolean(text: str) -> bool:
    try:
        return _BOOLEANS[text.lower()]
    except KeyError:
        raise ValueError("is not True or False") from None


def _datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a date and time like 2008-07-31T21:42:52.667") from None
    if value.tzinfo is not None:
        raise ValueError("carries a time zone offset; the column holds naive datetimes")
    return value


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValueError("is not a GUID") from None


def _string(text: str) -> str:
    return text


CONVERTERS: dict[Kind, Callable[[str], Any]] = {
    Kind.INTEGER: _integer,
    Kind.BOOLEAN: _boolean,
    Kind.DATETIME: _datetime,
    Kind.UUID: _uuid,
    Kind.STRING: _string,
}


def utf16_length(text: str) -> int:
    """Characters as SQL Server's nvarchar(n) counts them: outside the BMP, one counts two."""
    return len(text.encode("utf-16-le")) // 2


def _plan(table: Table) -> list[tuple[str, Callable[[str], Any], bool, Any, int | None]]:
    """Per column: name, converter, nullable, default when absent, UTF-16 length limit."""
    plan = []
    for col in table.columns:
        convert = CONVERTERS.get(col.type.kind)
        if convert is None:
            raise TerminalError(
                f"table {table.name!r}, column {col.name!r}: "
                f"no dump converter for {col.type.describe()}"
            )
        limit = col.type.length if col.type.kind is Kind.STRING else None
        default = NOT_NULL_DEFAULTS.get((table.name, col.name), _ABSENT)
        plan.append((col.name, convert, col.nullable, default, limit))
    return plan


def convert_rows(table: Table, source: DumpFile | Path) -> Iterator[tuple]:
    """Typed tuples in `table.columns` order, one per `<row>` of `source`."""
    path = as_dump_file(source)
    plan = _plan(table)
    known = frozenset(table.column_names)
    filled: Counter[str] = Counter()
    ignored: Counter[str] = Counter()
    for line, attrs in read_rows(path, table.name.lower()):
        values: list[Any] = []
        seen = 0
        for name, convert, nullable, default, limit in plan:
            text = attrs.get(name)
            if text is None:
                if nullable:
                    values.append(None)
                elif default is not _ABSENT:
                    filled[name] += 1
                    values.append(default)
                else:
                    raise _bad(
                        path, line, attrs, name, None, "is absent and the column is NOT NULL"
                    )
                continue
            seen += 1
            try:
                value = convert(text)
            except ValueError as exc:
                raise _bad(path, line, attrs, name, text, str(exc)) from None
            if limit is not None and len(text) * 2 > limit and utf16_length(text) > limit:
                n = utf16_length(text)
                why = f"is {n} characters (UTF-16 units) long; the column holds {limit}"
                raise _bad(path, line, attrs, name, text, why)
            values.append(value)
        if seen != len(attrs):
            ignored.update(attrs.keys() - known)
        yield tuple(values)
    _report(table, path, filled, ignored)


def _bad(
    path: DumpFile, line: int, attrs: dict[str, str], name: str, text: str | None, why: str
) -> InputFileError:
    row = attrs.get("Id")
    where = f"row Id={_show(row)}" if row is not None else "row without Id"
    shown = f"={_show(text)}" if text is not None else ""
    return InputFileError(path, f"{where}: attribute {name}{shown} {why}", line)


def _show(text: str) -> str:
    """The bad text, quoted on one line and cut to SHOWN_CHARS characters."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return repr(text[:SHOWN_CHARS]) + f"... ({len(text)} characters)"


def _report(table: Table, path: DumpFile, filled: Counter[str], ignored: Counter[str]) -> None:
    for name, n in filled.items():
        default = NOT_NULL_DEFAULTS[(table.name, name)]
        log.info("%s.%s: %s absent values stored as %r", table.name, name, f"{n:,}", default)
    if ignored:
        listed = ", ".join(f"{name} ({n:,} values)" for name, n in sorted(ignored.items()))
        log.warning(
            "%s: ignored attribute(s) that table %s has no column for: %s",
            path,
            table.name,
            listed,
        )


__all__ = [
    "DUMP_FILES",
    "NOT_NULL_DEFAULTS",
    "DumpFile",
    "convert_rows",
    "find_files",
    "import_dump",
    "read_rows",
    "utf16_length",
]
