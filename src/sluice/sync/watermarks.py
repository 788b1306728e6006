"""Which rows changed since the last sync: one watermark per table.

Kinds (docs/sync.md):
- `key`: a rising primary key, for append-only tables (Votes, Badges, Comments, PostHistory):
  rows whose key is above the last run's maximum, less `overlap` keys.
- `column`: a last-modified column (Posts.LastActivityDate, Users.LastAccessDate): rows whose
  value is at or above the last run's maximum, less `overlap` seconds, so rows sharing the
  maximum and rows of transactions that committed late are read again.
- `rowversion`: SQL Server `rowversion`, read only below `MIN_ACTIVE_ROWVERSION()`, so a row of
  a transaction still in flight is never skipped.
- `full`: every row (small tables without a watermark: Tags, VoteTypes).

Reading a row twice is harmless: before the upsert, rows equal to the target's are dropped, so
what a sync reports as moved is what changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sluice.copy.plan import INTEGER_KINDS
from sluice.core.errors import ConfigError, InputFileError
from sluice.core.schema import Table
from sluice.core.types import Kind

KINDS = ("key", "column", "rowversion", "full")
DEFAULT_KEY_OVERLAP = 1_000  # keys: identities handed out to transactions that commit late
DEFAULT_COLUMN_OVERLAP = 300.0  # seconds


@dataclass(frozen=True)
class Watermark:
    kind: str
    column: str | None = None
    overlap: float = 0  # keys for `key`, seconds for `column`

    def describe(self) -> str:
        if self.kind == "full":
            return "full"
        return f"{self.kind}({self.column})"


# StackOverflow2010's tables, as the issue that asked for sync describes them
STACKOVERFLOW: dict[str, Watermark] = {
    **{
        name: Watermark("key", "Id", DEFAULT_KEY_OVERLAP)
        for name in ("Votes", "Badges", "Comments", "PostHistory", "PostLinks")
    },
    "Posts": Watermark("column", "LastActivityDate", DEFAULT_COLUMN_OVERLAP),
    "Users": Watermark("column", "LastAccessDate", DEFAULT_COLUMN_OVERLAP),
    "Tags": Watermark("full"),
    "VoteTypes": Watermark("full"),
}


def watermark_for(table: Table, configured: Mapping[str, Watermark]) -> Watermark:
    """The configured watermark, else a rising key for a single integer key, else `full`."""
    if table.name in configured:
        return configured[table.name]
    key = table.primary_key
    if len(key) == 1 and table.column(key[0]).type.kind in INTEGER_KINDS:
        return Watermark("key", key[0], DEFAULT_KEY_OVERLAP)
    return Watermark("full")


def check(table: Table, mark: Watermark) -> list[str]:
    """Every problem with `mark` for `table`, worded for the user."""
    where = f"table {table.name!r}"
    if mark.kind not in KINDS:
        return [f"{where}: unknown watermark kind {mark.kind!r} (known: {', '.join(KINDS)})"]
    if mark.kind == "full":
        return []
    if not mark.column:
        return [f"{where}: a {mark.kind} watermark needs a column"]
    if mark.column not in table.column_names:
        return [f"{where}: watermark column {mark.column!r} does not exist"]
    problems = []
    kind = table.column(mark.column).type.kind
    if mark.kind == "key" and (tuple(table.primary_key) != (mark.column,)
                               or kind not in INTEGER_KINDS):  # fmt: skip
        problems.append(f"{where}: a key watermark needs a single integer primary key")
    if mark.kind == "rowversion" and kind is not Kind.ROWVERSION:
        problems.append(f"{where}, column {mark.column!r}: not a rowversion column")
    if mark.overlap < 0:
        problems.append(f"{where}: overlap must be >= 0, got {mark.overlap}")
    keyed = mark.column in table.primary_key  # SQLite reports its key columns nullable
    if mark.kind in ("key", "column") and table.column(mark.column).nullable and not keyed:
        problems.append(
            f"{where}, column {mark.column!r}: nullable; rows where it is NULL would never "
            "be synced (use kind full, or a NOT NULL column)"
        )
    return problems


def load(path: str | Path) -> dict[str, Watermark]:
    """Watermarks from a JSON or YAML file: `{"tables": {"Posts": {"kind": "column",
    "column": "LastActivityDate", "overlap": 300}}}`; every problem is reported at once."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputFileError(path, exc.strerror or "cannot read") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        fmt = path.suffix.lstrip(".") or "JSON"
        raise InputFileError(path, f"not valid {fmt}: {exc}") from None
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict):
        raise InputFileError(path, 'expected {"tables": {"<table>": {"kind": ...}}}')
    marks, problems = {}, []
    for name, spec in tables.items():
        if not isinstance(spec, dict) or "kind" not in spec:
            problems.append(f"{name}: expected an object with a kind")
            continue
        unknown = set(spec) - {"kind", "column", "overlap"}
        if unknown:
            problems.append(f"{name}: unknown field(s) {', '.join(sorted(unknown))}")
        if spec["kind"] not in KINDS:
            problems.append(f"{name}: unknown kind {spec['kind']!r} (known: {', '.join(KINDS)})")
        try:
            overlap = float(spec.get("overlap", 0))
        except (TypeError, ValueError):
            problems.append(f"{name}: overlap must be a number")
            continue
        marks[name] = Watermark(spec["kind"], spec.get("column"), overlap)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return marks


# --- bounds ------------------------------------------------------------------------------------


def lower_bound(mark: Watermark, last: Any) -> Any:
    """The exclusive lower bound of the next read: the last maximum less the overlap, and for
    a column at least one step below it, so rows sharing the last maximum are read again."""
    if last is None or mark.kind == "full":
        return None
    if mark.kind == "key":
        return last - int(mark.overlap)
    if mark.kind == "rowversion":
        return last  # stable below MIN_ACTIVE_ROWVERSION(): exact, no overlap needed
    if isinstance(last, dt.datetime):
        return last - dt.timedelta(seconds=mark.overlap) - dt.timedelta(microseconds=1)
    if isinstance(last, dt.date):
        return last - dt.timedelta(days=max(1, -(-int(mark.overlap) // 86400)))
    if isinstance(last, (int, Decimal, float)):
        return last - max(1, mark.overlap) if isinstance(last, int) else last - mark.overlap
    raise ConfigError(f"cannot compute an overlap below a {type(last).__name__} watermark")


def encode(value: Any) -> str | None:
    """A watermark as text for the state table, tagged with its type."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError("a boolean column cannot be a watermark")
    if isinstance(value, int):
        return json.dumps(["int", str(value)])
    if isinstance(value, dt.datetime):
        return json.dumps(["datetime", value.isoformat()])
    if isinstance(value, dt.date):
        return json.dumps(["date", value.isoformat()])
    if isinstance(value, Decimal):
        return json.dumps(["decimal", str(value)])
    if isinstance(value, float):
        return json.dumps(["float", repr(value)])
    if isinstance(value, (bytes, bytearray, memoryview)):
        return json.dumps(["bytes", bytes(value).hex()])
    if isinstance(value, str):
        return json.dumps(["str", value])
    raise ConfigError(f"cannot store a {type(value).__name__} watermark")


_DECODE = {
    "int": int,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "decimal": Decimal,
    "float": float,
    "bytes": bytes.fromhex,
    "str": str,
}


def decode(text: str | None) -> Any:
    if text is None:
        return None
    tag, value = json.loads(text)
    return _DECODE[tag](value)
