"""The parts of a table's definition beyond columns and keys (issue 26): defaults, CHECK
constraints, partitioning, and what a copy does not carry.

Values only. The source's dialect reads them into these shapes (neutral where an equivalent
exists on other engines, the source's own SQL where not); the target's dialect renders them,
or says why it cannot (then the plan lists them under "not carried", never dropped silently).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Default.kind
LITERAL = "literal"  # a constant: `value` is its text ('abc', 42, 1.5, true), unquoted
NOW = "now"  # the current moment: `value` is "timestamp", "date" or "time"
SEQUENCE = "sequence"  # the next value of a sequence: `value` is its qualified name
EXPRESSION = "expression"  # anything else: `value` is the source engine's SQL, same engine only

# Column.identity_kind
ALWAYS = "always"  # generates every value; an explicit id is refused (PostgreSQL's ALWAYS)
BY_DEFAULT = "by_default"  # generates when none is given (BY DEFAULT, AUTO_INCREMENT, rowid)
SERIAL = "serial"  # PostgreSQL serial: a default nextval() of a sequence the column owns


@dataclass(frozen=True)
class Default:
    """A column's default. `text` is the source's own spelling (same-engine targets use it
    as is; plans show it); `engine` is the engine whose SQL `text` (and an EXPRESSION's
    `value`) is."""

    kind: str
    value: str
    engine: str = ""
    text: str = ""
    # a function of the source's own the expression calls ("public.f(integer)"), which the
    # copy does not make: then the default is not carried (the table is made without it)
    needs: str = ""


@dataclass(frozen=True)
class Check:
    """A CHECK constraint as the source names it, its expression in the source's SQL;
    `needs` as Default's (a user function it calls: then it is not carried). `column`: the
    column whose own definition holds it (MariaDB's column-level `a int CHECK (a > 0)`,
    named `<table>_<column>_check` as PostgreSQL names one), "" for a table constraint."""

    name: str
    expression: str
    engine: str = ""
    needs: str = ""
    column: str = ""


@dataclass(frozen=True)
class Partitioning:
    """A partitioned table: `strategy` ("range", "list", "hash"), the key as the source
    writes it, and each partition as (name, bound) in the source's SQL (PostgreSQL:
    `FOR VALUES FROM (...) TO (...)`, `DEFAULT`). `subpartitions` gives each partition
    that is partitioned itself (by name) its own partitioning, to any depth."""

    strategy: str
    key: str
    partitions: tuple[tuple[str, str], ...] = ()
    engine: str = ""
    subpartitions: tuple[tuple[str, Partitioning], ...] = ()

    def names(self) -> list[str]:
        """Every partition's name, each before its own partitions'."""
        subs = dict(self.subpartitions)
        return [m for n, _ in self.partitions
                for m in [n, *(subs[n].names() if n in subs else [])]]  # fmt: skip

    def renamed(self, rename) -> Partitioning:
        """The same partitioning with every partition's name `n` as `rename(n)`."""
        parts = tuple((rename(n), b) for n, b in self.partitions)
        subs = tuple((rename(n), p.renamed(rename)) for n, p in self.subpartitions)
        return Partitioning(self.strategy, self.key, parts, self.engine, subs)


@dataclass(frozen=True)
class NotCarried:
    """Something the copy will not create on the target, listed at the end of the plan with
    its source DDL so a person can port it by hand: `kind` ("trigger", "function",
    "procedure", "rule", "policy", "grant", "event", "check", "default", "collation",
    "foreign key", "view", "sequence", ...), `key` where it lives ("schema.table.name" or
    "schema.name"), `reason` why it is not carried."""

    kind: str
    key: str
    reason: str
    ddl: str = ""


def default_from(d: dict[str, Any] | None) -> Default | None:
    return None if d is None else Default(**d)


def partitioning_from(d: dict[str, Any] | None) -> Partitioning | None:
    if d is None:
        return None
    parts = tuple(tuple(p) for p in d.get("partitions", ()))
    subs = tuple((n, partitioning_from(p)) for n, p in d.get("subpartitions", ()))
    return Partitioning(**{**d, "partitions": parts, "subpartitions": subs})
