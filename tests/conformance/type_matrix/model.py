"""The matrix's row types and the shorthands its engine modules write rows with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sluice.core.types import SqlType

PG, MY, LITE, MS = "postgresql", "mysql", "sqlite", "mssql"
ENGINES = (PG, MY, LITE, MS)
LIVE = (PG, MY, LITE)  # engines this machine runs: live sources and targets
TITLE = {PG: "PostgreSQL", MY: "MariaDB", LITE: "SQLite", MS: "SQL Server"}
CARRY = "--carry-as-text"
LOSSY = "--allow-lossy"


@dataclass(frozen=True)
class To:
    """One target's side of a row: the plan's declaration and the outcome."""

    decl: str = ""  # the target column's declaration as the plan renders it
    outcome: str = "exact"  # exact | widening | lossy | refused
    option: str = ""  # lossy: --allow-lossy; refused: the option that carries it, if any
    bad: tuple[str, ...] = ()  # edge values (literals of the row) refused one by one


def X(decl: str, *bad: str) -> To:
    return To(decl, "exact", bad=bad)


def W(decl: str, *bad: str) -> To:
    return To(decl, "widening", bad=bad)


def L(decl: str, *bad: str) -> To:
    return To(decl, "lossy", LOSSY, bad=bad)


def R(option: str = "") -> To:
    return To("", "refused", option)


RC = R(CARRY)  # refused; --carry-as-text carries it as the source server's text


@dataclass(frozen=True)
class Row:
    source: str
    decl: str
    values: tuple[str | None, ...]
    to: Mapping[str, To]
    read: str = "text"  # how both sides are read and compared (test_type_matrix.READS)
    mssql: tuple[str, SqlType | None] | None = None  # SQL Server rows: sys.types name, neutral

    @property
    def column(self) -> str:
        """The source column's name: the declaration as an identifier."""
        slug = re.sub(r"[^a-z0-9]+", "_", self.decl.lower().replace("[]", " array")).strip("_")
        return ("q_" if self.decl.startswith('"') else "") + slug[:50]


def _row(source: str, decl: str, values, read: str = "text", **to: To) -> Row:
    names = {"pg": PG, "my": MY, "lite": LITE, "ms": MS}
    return Row(source, decl, tuple(values), {names[k]: v for k, v in to.items()}, read)


def pg(decl, values, read="text", **to) -> Row:
    return _row(PG, decl, values, read, **to)


def my(decl, values, read="text", **to) -> Row:
    return _row(MY, decl, values, read, **to)


def lite(decl, values, read="text", **to) -> Row:
    return _row(LITE, decl, values, read, **to)


def pg_own(decl: str, values, read: str = "text") -> Row:
    """A PostgreSQL type no other engine has: exact to PostgreSQL, its own text elsewhere."""
    return pg(decl, values, read, pg=X(decl), my=RC, lite=RC, ms=RC)


ALL_BYTES = "decode('" + "".join(f"{i:02x}" for i in range(256)) + "', 'hex')"
MY_ALL_BYTES = "0x" + "".join(f"{i:02X}" for i in range(256))
PG_INFINITE = ("'infinity'", "'-infinity'")
D65 = "99999999999999999999999999999999999.999999999999999999999999999999"
