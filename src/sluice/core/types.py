"""The neutral type vocabulary every dialect maps to and from.

Engines never talk to each other directly: a source type is parsed into a
`SqlType`, and the target dialect renders that `SqlType` in its own words. A
type no dialect can express stops the run with an error naming table and column
(see `sluice.core.errors.UnmappableType`); there is no silent fallback to text.

A source engine also records each column's own exact declaration (`SqlType.native`, with
`SqlType.engine`): a dialect of that same engine renders it verbatim, so a same-engine copy
keeps every type it holds (PostgreSQL arrays, ranges, enums, json as json). A type with no
neutral equivalent at all is `Kind.NATIVE`: only that engine can store it; any other target
refuses it by name (ADR 0013).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    BOOLEAN = "boolean"
    TINYINT = "tinyint"  # 0..255 in SQL Server, signed elsewhere: mapped to the next wider type
    SMALLINT = "smallint"
    INTEGER = "integer"
    BIGINT = "bigint"
    DECIMAL = "decimal"  # precision/scale kept
    MONEY = "money"  # SQL Server money: decimal(19,4) on other engines
    REAL = "real"  # 4-byte float
    DOUBLE = "double"  # 8-byte float
    STRING = "string"  # length None means unbounded (nvarchar(max), text)
    BINARY = "binary"  # length None means unbounded
    DATE = "date"
    TIME = "time"  # a time of day, 00:00:00 to 24:00:00 (PostgreSQL keeps 24:00:00)
    TIME_TZ = "time_tz"  # a time of day with an offset (PostgreSQL timetz)
    DURATION = "duration"  # a signed span without months (MySQL TIME: +-838:59:59.999999)
    DATETIME = "datetime"  # naive: no time zone, never shifted
    DATETIME_TZ = "datetime_tz"  # carries an offset
    UUID = "uuid"
    JSON = "json"
    XML = "xml"
    ROWVERSION = "rowversion"  # 8 opaque bytes maintained by SQL Server
    NATIVE = "native"  # no neutral equivalent: `SqlType.native` on its own engine only
    BIT = "bit"  # a fixed string of `length` bits; values are str of '0'/'1'
    # a type only its source engine has, carried elsewhere as that server's exact text of it
    # (--carry-as-text): read as the source's text, stored as unbounded text; values are str
    TEXT_FORM = "text_form"
    # a spatial value (MySQL GEOMETRY, POINT, ...); values are EWKB bytes (WKB, with the SRID
    # flagged in when it is not 0, as PostGIS writes it); `native` the source's declaration
    GEOMETRY = "geometry"


@dataclass(frozen=True)
class SqlType:
    """One column type, engine-neutral.

    `length` counts characters for strings and bytes for binaries; `unicode`
    records whether the source stored national characters (nvarchar vs
    varchar), so SQL Server -> SQL Server keeps `nvarchar(40)` exactly. `fixed`
    marks char/nchar/binary(n). `precision` is fractional-second digits for
    time types and total digits for decimals. `native` is the source engine's exact
    declaration (`integer[]`, `public.hstore`, `"sales"."mood"`) and `engine` that engine's
    dialect name: only a dialect of the same engine renders it (`Dialect.render_native`).
    """

    kind: Kind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    unicode: bool = True
    fixed: bool = False
    native: str | None = None
    engine: str | None = None

    def describe(self) -> str:
        parts = [self.kind.value]
        if self.length is not None:
            parts.append(f"length={self.length}")
        if self.precision is not None:
            parts.append(f"precision={self.precision}")
        if self.scale is not None:
            parts.append(f"scale={self.scale}")
        if self.kind is Kind.STRING and not self.unicode:
            parts.append("ascii")
        if self.fixed:
            parts.append("fixed")
        if self.native is not None:
            parts.append(f"{self.engine} {self.native}")
        return " ".join(parts)


BOOLEAN = SqlType(Kind.BOOLEAN)
INTEGER = SqlType(Kind.INTEGER)
BIGINT = SqlType(Kind.BIGINT)
DATETIME = SqlType(Kind.DATETIME, precision=3)
UUID = SqlType(Kind.UUID)


def string(length: int | None = None, *, unicode: bool = True) -> SqlType:
    return SqlType(Kind.STRING, length=length, unicode=unicode)
