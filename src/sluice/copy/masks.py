"""Masked columns (`--mask table.column=hash|null|fixed:VALUE`, docs/selection.md): what each
mask does to a value, checked against the column's type when the plan is made, applied in
Python on the decoded path of the copy (and of sync), and on verify's source side, so the
replica verifies through the same mask (ADR 0016).

`hash` is keyed and deterministic: HMAC-SHA256 under the secret in $SLUICE_MASK_KEY over the
value's text, so one value masks alike in every run and every table (joins on masked keys still
match) while nobody without the secret can recompute it. The secret is read from the
environment where the mask runs and never stored, logged or shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sluice.core.errors import ConfigError
from sluice.core.schema import Column
from sluice.core.types import Kind

KEY_VARIABLE = "SLUICE_MASK_KEY"
KINDS = ("hash", "null", "fixed:VALUE")
TEXT_KINDS = (Kind.STRING,)
# the neutral integer kinds and the values every engine's column of that kind holds
# (TINYINT: 0..255 on SQL Server, signed elsewhere: the common part)
INTEGER_RANGES = {
    Kind.TINYINT: (0, 127),
    Kind.SMALLINT: (-(2**15), 2**15 - 1),
    Kind.INTEGER: (-(2**31), 2**31 - 1),
    Kind.BIGINT: (-(2**63), 2**63 - 1),
}
HASH_KINDS = "text (char, varchar, text) and integer (tinyint to bigint) columns"
# a hashed key column must keep its rows apart: at least 128 bits of the digest (32 hex digits)
MIN_KEY_DIGITS = 32


def check(table: str, column: Column, spec: str, is_key: bool) -> str:
    """`spec` for `column` of `table`, normalised, or a ConfigError naming the column and what
    the mask needs. Returns the spec as stored in the plan (`fixed:` with its value)."""
    where = f"--mask {table}.{column.name}"
    kind = column.type.kind
    if spec == "hash":
        if kind not in TEXT_KINDS and kind not in INTEGER_RANGES:
            raise ConfigError(f"{where}=hash: type {column.type.describe()} cannot be hashed "
                              f"in its own type (hash masks {HASH_KINDS})")  # fmt: skip
        if is_key and kind not in TEXT_KINDS:
            raise ConfigError(f"{where}=hash: a primary-key column hashed into an integer range "
                              "may collide (two rows, one key): only a text key column can be "
                              "hashed")  # fmt: skip
        length = column.type.length
        if is_key and length is not None and length < MIN_KEY_DIGITS:
            raise ConfigError(f"{where}=hash: a primary-key column of {length} characters cannot "
                              f"hold the {MIN_KEY_DIGITS} hex digits that keep hashed keys "
                              "apart")  # fmt: skip
        return spec
    if spec == "null":
        if is_key:
            raise ConfigError(f"{where}=null: a primary-key column cannot be NULL")
        return spec
    if spec.startswith("fixed:"):
        if is_key:
            raise ConfigError(f"{where}={spec}: a primary-key column masked to one value would "
                              "hold every row under one key")  # fmt: skip
        fixed_value(column, spec[len("fixed:") :], where)
        return spec
    raise ConfigError(f"{where}: unknown mask {spec!r} (known: {', '.join(KINDS)})")


def fixed_value(column: Column, text: str, where: str = "") -> Any:
    """`text` as a value of the column's type (the canonical Python value), or a ConfigError
    naming the column when it does not fit."""
    t = column.type
    kind = t.kind
    try:
        if kind in TEXT_KINDS:
            if t.length is not None and len(text) > t.length:
                raise ValueError(f"longer than the column's {t.length} characters")
            return text
        if kind in INTEGER_RANGES:
            value = int(text)
            lo, hi = INTEGER_RANGES[kind]
            if not lo <= value <= hi:
                raise ValueError(f"outside {kind.value}'s range {lo}..{hi}")
            return value
        if kind is Kind.DECIMAL:
            value = Decimal(text)
            if not value.is_finite():
                raise ValueError("not a finite number")
            if t.precision is not None:
                scale = t.scale or 0
                exact = value.quantize(Decimal(1).scaleb(-scale))
                if exact != value:  # never rounded in silence
                    raise ValueError(f"more than {scale} digits after the point")
                value = exact
                if len(value.as_tuple().digits) > t.precision:
                    raise ValueError(f"more than decimal({t.precision},{scale}) holds")
            return value
        if kind in (Kind.REAL, Kind.DOUBLE):
            return float(text)
        if kind is Kind.BOOLEAN:
            words = {"true": True, "1": True, "false": False, "0": False}
            if text.lower() not in words:
                raise ValueError("not true, false, 1 or 0")
            return words[text.lower()]
        if kind is Kind.DATE:
            return dt.date.fromisoformat(text)
        if kind is Kind.DATETIME:
            return dt.datetime.fromisoformat(text)
    except (ValueError, InvalidOperation) as exc:
        raise ConfigError(f"{where}: {text!r} does not fit {column.type.describe()} "
                          f"({exc})") from None  # fmt: skip
    raise ConfigError(f"{where}: a fixed value for type {column.type.describe()} is not "
                      "supported (text, numbers, booleans, dates and timestamps are)")  # fmt: skip


def secret() -> bytes:
    """The hash masks' key, from the environment; missing: an error naming the variable."""
    value = os.environ.get(KEY_VARIABLE, "")
    if not value:
        raise ConfigError(f"--mask ...=hash needs a secret key: set the environment variable "
                          f"{KEY_VARIABLE} (the same key masks alike across runs)")  # fmt: skip
    return value.encode()


def require_key(masks: Sequence[tuple[str, str]]) -> None:
    """Fail before any data moves when a hash mask has no key."""
    if any(spec == "hash" for _, spec in masks):
        secret()


def hash_text(key: bytes, value: Any, length: int | None) -> str:
    digest = hmac.new(key, _text(value).encode(), hashlib.sha256).hexdigest()
    return digest if length is None else digest[:length]


def hash_integer(key: bytes, value: Any, bounds: tuple[int, int]) -> int:
    digest = hmac.new(key, _text(value).encode(), hashlib.sha256).digest()
    lo, hi = bounds
    return lo + int.from_bytes(digest[:16], "big") % (hi - lo + 1)


def _text(value: Any) -> str:
    """The value hashed: its text, so 42 and '42' mask alike (a join across types matches)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


def column_mask(column: Column, spec: str, key: bytes | None,
                dialect: Any = None) -> Callable[[Any], Any]:  # fmt: skip
    """The function masking one non-NULL value of `column` (a NULL stays NULL); `dialect`,
    the source's, narrows a hashed integer to its own declaration's range (`integer_bounds`),
    so a same-engine target holds it."""
    if spec == "null":
        return lambda v: None
    if spec.startswith("fixed:"):
        value = fixed_value(column, spec[len("fixed:") :])
        return lambda v: value
    assert key is not None
    t = column.type
    if t.kind in INTEGER_RANGES:
        lo, hi = INTEGER_RANGES[t.kind]
        own = dialect.integer_bounds(t) if dialect is not None else None
        bounds = (max(lo, own[0]), min(hi, own[1])) if own else (lo, hi)
        return lambda v: hash_integer(key, v, bounds)
    return lambda v: hash_text(key, v, t.length)


def row_mask(columns: Sequence[Column], masks: Sequence[tuple[str, str]],
             dialect: Any = None) -> Callable[[tuple], tuple] | None:  # fmt: skip
    """One function masking a row of `columns` (in order), or None when nothing is masked;
    `dialect`: the source's (see `column_mask`)."""
    if not masks:
        return None
    key = secret() if any(spec == "hash" for _, spec in masks) else None
    names = [c.name for c in columns]
    pairs = [(names.index(name), column_mask(columns[names.index(name)], spec, key, dialect))
             for name, spec in masks if name in names]  # fmt: skip

    def mask(row: tuple) -> tuple:
        values = list(row)
        for i, f in pairs:
            if values[i] is not None:
                values[i] = f(values[i])
        return tuple(values)

    return mask


def describe(spec: str) -> str:
    """The mask as plans and reports name it (a fixed value is shown: the user chose it)."""
    return spec


def masked(convert: Callable[[tuple], tuple] | None, tp: Any,
           dialect: Any = None) -> Callable[[tuple], tuple] | None:  # fmt: skip
    """`convert` (a decoded row's converter, or None) followed by `tp`'s masks: what the
    copy's reader applies to every row of a masked table (a TablePlan's `masks`)."""
    mask = row_mask(tp.table.columns, tp.masks, dialect)
    if mask is None:
        return convert
    if convert is None:
        return mask
    return lambda row: mask(convert(row))
