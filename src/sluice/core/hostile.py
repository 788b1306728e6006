"""Values a target cannot hold: refused with table, column and key, never silently altered.

Two places, so that the common path stays fast:

* `write_guard`: checks on the decoded write path, added per column only where the pair's
  capabilities call for them (never by engine name). NUL characters are stripped or
  replaced when the user asked for that (`--nul`) and the target's text cannot hold them;
  declared string lengths are checked when the source does not enforce them (SQLite),
  since PostgreSQL and MariaDB silently cut trailing spaces off an over-long value;
  NaN/Infinity are checked when the source can hold them and the target would store
  something else without a word (SQLite: NULL). A failing check raises `DataError` with
  the key.
* `diagnose`: the failure path. When the target or a driver refused a value without saying
  which row held it (`ValueRejected`: PostgreSQL's "invalid byte sequence ... 0x00", "value
  too long"), the chunk is read again and every value checked, and the error names the
  table, column and keys.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sluice.core.errors import DataError, SluiceError
from sluice.core.schema import Table
from sluice.core.types import Kind
from sluice.core.values import NEG_INFINITY

NUL_POLICIES = ("error", "strip", "replace")
ZERO_DATE_POLICIES = ("error", "null", "-infinity")
# what a zero date is stored as under each policy that stores one ("-infinity": PostgreSQL's
# date before every date, written by the target dialect; see `Capabilities.infinite_dates`)
ZERO_DATE_VALUES = {"null": None, "-infinity": NEG_INFINITY}
MAX_KEYS = 10  # keys listed per column in an error
TEXT_KINDS = (Kind.STRING, Kind.JSON, Kind.XML)
NUMBER_KINDS = (Kind.REAL, Kind.DOUBLE, Kind.DECIMAL, Kind.MONEY)
DATED_KINDS = (Kind.DATE, Kind.DATETIME, Kind.DATETIME_TZ)
_SURROGATE = re.compile("[\ud800-\udfff]")

Check = Callable[[Any], "str | None"]  # a value -> why it cannot be stored, or None


@dataclass(frozen=True)
class NulPolicy:
    """What to do with U+0000 in text bound for an engine whose text cannot hold it, and with
    MySQL's zero dates ('0000-00-00', '2020-00-15') bound for one that has no such date."""

    mode: str = "error"  # "error": refuse, naming the rows; "strip"; "replace"
    replacement: str = "\ufffd"
    # "error": refuse, naming the rows; "null": store NULL; "-infinity": store -infinity
    # (PostgreSQL targets only); either counted
    zero_dates: str = "error"

    def validate(self) -> list[str]:
        problems = []
        if self.mode not in NUL_POLICIES:
            known = ", ".join(NUL_POLICIES)
            problems.append(f"nul policy must be one of {known}, got {self.mode!r}")
        if "\x00" in self.replacement:
            problems.append("the NUL replacement cannot itself contain NUL")
        if self.zero_dates not in ZERO_DATE_POLICIES:
            known = ", ".join(ZERO_DATE_POLICIES)
            problems.append(f"zero-dates policy must be one of {known}, got {self.zero_dates!r}")
        return problems


def _nul(engine: str) -> Check:
    why = f"text holds NUL (U+0000), which {engine} text cannot store (see --nul strip|replace)"
    return lambda v: why if isinstance(v, str) and "\x00" in v else None


def _zero_date(engine: str) -> Check:
    """PyMySQL hands a date it cannot make a `date` of ('0000-00-00', '2020-00-15') as text."""
    why = f"is a MySQL zero date, which {engine} cannot store (see --zero-dates null|-infinity)"
    return lambda v: f"{v!r} {why}" if isinstance(v, str) else None


def _surrogate(engine: str) -> Check:
    why = f"text holds an unpaired UTF-16 surrogate, which {engine} text cannot store"
    return lambda v: why if isinstance(v, str) and _SURROGATE.search(v) else None


def _length(limit: int, declared: str) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, str) and len(v) > limit:
            return f"value of {len(v)} characters is longer than {declared}"
        return None

    return check


def _bounds(lowest: Any, highest: Any, engine: str, declared: str) -> Check:
    def check(v: Any) -> str | None:
        naive = v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v
        with contextlib.suppress(TypeError):  # a date against datetime bounds
            if naive < lowest or naive > highest:
                return f"{v} is outside {engine} {declared} ({lowest} to {highest})"
        return None

    return check


def _special(nan: bool, infinity: bool, engine: str, declared: str) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, float):
            bad_nan, bad_inf = math.isnan(v), math.isinf(v)
        elif isinstance(v, Decimal):
            bad_nan, bad_inf = v.is_nan(), v.is_infinite()
        else:
            return None
        if (bad_nan and not nan) or (bad_inf and not infinity):
            return f"{v} cannot be stored in {engine} {declared}"
        return None

    return check


# The Python values a kind's column holds; from a source whose columns hold any value
# (SQLite: 'abc' in an INTEGER column, 5 in a BOOLEAN one) anything else is refused by key
STORED: dict[Kind, type | tuple[type, ...]] = {
    **dict.fromkeys((Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT), int),
    Kind.BOOLEAN: bool, Kind.REAL: (int, float), Kind.DOUBLE: (int, float),
}  # fmt: skip


def _stored(kind: Kind, engine: str, declared: str) -> Check:
    cls = STORED[kind]

    def check(v: Any) -> str | None:
        if isinstance(v, cls) and (kind is Kind.BOOLEAN or not isinstance(v, bool)):
            return None
        return f"{v!r} is not a {kind.value} value: {engine} {declared} cannot hold it"

    return check


def _negative_zero(engine: str, declared: str) -> Check:
    why = f"-0.0 (a negative zero) cannot be stored in {engine} {declared}, which stores it as 0"
    return lambda v: why if isinstance(v, float) and v == 0.0 and math.copysign(1, v) < 0 else None


def value_checks(src, dst, table: Table, *, hot: bool, nul: NulPolicy) -> list[tuple[int, Check]]:
    """(column index, check) pairs. `hot`: only those the write path needs for this pair
    (what the target would not refuse by itself, or would refuse without a key); otherwise
    every check the target's capabilities imply (the failure path)."""
    caps, out = dst.caps, []
    loose = not src.caps.typed_values and dst.caps.typed_values
    for i, c in enumerate(table.columns):
        kind, declared = c.type.kind, dst.render_type(c.type)
        if loose and kind in STORED:
            out.append((i, _stored(kind, dst.name, declared)))
        if kind in TEXT_KINDS:
            if not caps.text_nul and nul.mode == "error" and not hot:
                out.append((i, _nul(dst.name)))
            if not caps.text_surrogates and not hot:
                out.append((i, _surrogate(dst.name)))
            length = c.type.length if kind is Kind.STRING else None
            unchecked = not hot or not src.caps.enforces_length  # the source let it through
            if length is not None and caps.enforces_length and unchecked:
                out.append((i, _length(length, declared)))
        elif kind in DATED_KINDS and not hot and zero_dates_refused(src, dst, nul):
            out.append((i, _zero_date(dst.name)))
        elif kind in DATED_KINDS and not hot and (bounds := dst.value_bounds(c.type)):
            out.append((i, _bounds(*bounds, dst.name, declared)))
        elif kind in NUMBER_KINDS:
            nan, inf = caps.float_nan, caps.float_infinity
            gap = (src.caps.float_nan and not nan) or (src.caps.float_infinity and not inf)
            if (gap and caps.float_silent) or (not hot and not (nan and inf)):
                out.append((i, _special(nan, inf, dst.name, declared)))
            if not hot and (bounds := dst.value_bounds(c.type)):
                out.append((i, _bounds(*bounds, dst.name, declared)))
            floats = kind in (Kind.REAL, Kind.DOUBLE)
            if floats and src.caps.float_negative_zero and not caps.float_negative_zero:
                out.append((i, _negative_zero(dst.name, declared)))
    return out


def zero_dates_refused(src, dst, nul: NulPolicy) -> bool:
    return src.caps.zero_dates and not dst.caps.zero_dates and nul.zero_dates == "error"


def zero_dates_problem(src, dst, zero_dates: str) -> str | None:
    """Why `--zero-dates` cannot apply to this pair (-infinity into a target without infinite
    dates), asked before anything moves; None when it can."""
    if zero_dates == "-infinity" and src.caps.zero_dates and not dst.caps.infinite_dates:
        return (f"--zero-dates -infinity needs a target with infinite dates (PostgreSQL); "
                f"{dst.name} has none: use --zero-dates null, or error to refuse them")  # fmt: skip
    return None


def key_of(table: Table) -> Callable[[tuple], Any]:
    """The function giving a row's primary key (a value, or a tuple for a composite key)."""
    idx = [table.column_names.index(k) for k in table.primary_key]
    if len(idx) == 1:
        return lambda row: row[idx[0]]
    return lambda row: tuple(row[i] for i in idx) if idx else None


class WriteGuard:
    """The decoded write path's per-row checks and NUL conversion for one table on one pair;
    `changed` counts the values whose NUL characters were stripped or replaced, and
    `zero_dates` the zero dates stored as NULL or -infinity (`--zero-dates`)."""

    def __init__(self, src, dst, table: Table, nul: NulPolicy):
        self.table, self.changed, self.zero_dates = table, 0, 0
        stored = nul.zero_dates in ZERO_DATE_VALUES
        replaced = src.caps.zero_dates and not dst.caps.zero_dates and stored
        self.zero_value = ZERO_DATE_VALUES.get(nul.zero_dates)
        self.date_columns = [
            i for i, c in enumerate(table.columns) if replaced and c.type.kind in DATED_KINDS
        ]
        self.checks = value_checks(src, dst, table, hot=True, nul=nul)
        convert = nul.mode != "error" and src.caps.text_nul and not dst.caps.text_nul
        self.nul_columns = [
            i for i, c in enumerate(table.columns) if convert and c.type.kind in TEXT_KINDS
        ]
        self.replacement = "" if nul.mode == "strip" else nul.replacement
        self.key = key_of(table)

    @property
    def active(self) -> bool:
        return bool(self.checks or self.nul_columns or self.date_columns)

    def __call__(self, row: tuple) -> tuple:
        if self.nul_columns:
            values = None
            for i in self.nul_columns:
                v = row[i]
                if v is not None and "\x00" in v:
                    values = values or list(row)
                    values[i] = v.replace("\x00", self.replacement)
                    self.changed += 1
            if values is not None:
                row = tuple(values)
        if self.date_columns and any(isinstance(row[i], str) for i in self.date_columns):
            values = list(row)
            for i in self.date_columns:
                if isinstance(values[i], str):  # a zero date (--zero-dates null|-infinity)
                    values[i] = self.zero_value
                    self.zero_dates += 1
            row = tuple(values)
        for i, check in self.checks:
            v = row[i]
            if v is not None and (why := check(v)) is not None:
                raise DataError(self.table.name, self.table.columns[i].name, self.key(row), why)
        return row


def encodable(encoding: str, python_codec: str) -> Check:
    """A check that text fits a database encoding (`python_codec`, Python's name for it)."""

    def check(v: Any) -> str | None:
        try:
            str(v).encode(python_codec)
        except UnicodeEncodeError as exc:
            return (f"character {exc.object[exc.start]!r} has no equivalent in the target "
                    f"database's encoding {encoding}")  # fmt: skip
        return None

    return check


def diagnose(src, dst, table: Table, read_rows, locate, nul: NulPolicy, original: SluiceError,
             extra: Sequence[tuple[int, Check]] = ()) -> SluiceError:  # fmt: skip
    """The error to raise for a chunk the target refused: a `DataError` naming the table,
    column and keys of every value the target's capabilities (and `extra`: what this target
    database refuses, `Dialect.database_checks`) say it cannot hold, found by checking the
    chunk's rows again (`read_rows()`: decoded rows; `locate()`: what the source dialect can
    find when even reading fails), else `original`."""
    checks = [*value_checks(src, dst, table, hot=False, nul=nul), *extra]
    key = key_of(table)
    found: dict[tuple[int, int], tuple[str, list]] = {}  # (column, check) -> (first why, keys)
    try:
        for n, row in enumerate(read_rows()):
            for j, (i, check) in enumerate(checks):
                v = row[i]
                if v is not None and (why := check(v)) is not None:
                    found.setdefault((i, j), (why, []))[1].append(
                        key(row) if table.primary_key else n
                    )
    except Exception:  # the source cannot even hand the values over: ask it where they are
        with contextlib.suppress(Exception):
            for column, k, why in locate():
                found.setdefault((table.column_names.index(column), -1), (why, []))[1].append(k)
    if not found:
        return original
    return _data_error(table, found, original)


def _data_error(table: Table, found: dict, original: SluiceError) -> DataError:
    parts = []
    for (i, _), (why, keys) in found.items():  # keys in key order: the re-read is ordered
        shown = ", ".join(repr(k) for k in keys[:MAX_KEYS])
        more = f" and {len(keys) - MAX_KEYS} more" if len(keys) > MAX_KEYS else ""
        label = "keys" if table.primary_key else "rows (no key; position in the chunk)"
        parts.append((table.columns[i].name, keys[0], f"{why} ({len(keys)} row(s): {label} "
                                                       f"{shown}{more})"))  # fmt: skip
    column, first, message = parts[0]
    for other, _, text in parts[1:]:
        message += f"; column {other!r}: {text}"
    err = DataError(table.key, column, first if table.primary_key else None, message)
    err.__cause__ = original
    return err


def rows_of(batches: Sequence | Any, convert) -> Any:
    """Rows from a dialect's batches, through the source's decode converter (or none)."""
    for batch in batches:
        for row in batch:
            yield convert(row) if convert else row
