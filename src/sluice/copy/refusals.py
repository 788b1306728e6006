"""What a command does with tables it cannot copy: the user's selection (tables left out by
name, refused tables skipped, types carried as text, lossy mappings accepted), and refusals
a person can act on.

Every refusal of a database is gathered before anything moves (reflection's unknown types,
the plan's unmappable columns, identities, lossy mappings not asked for), each naming table,
column and type and the option that would carry it. Without `skip_refused` they stop the
command as one error; with it the refused tables are left out, each named with its reason
in the plan, the summaries and the reports ("complete or said").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sluice.core.errors import DataError, UnmappableType

SKIP_HINT = "--skip-refused copies the other tables, or --exclude-tables {names}"


@dataclass(frozen=True)
class Selection:
    """Which tables a command works on and what it does with those it cannot copy. Tables
    are named by qualified key or glob pattern (`copy.scope`: a bare name is in the default
    schema); schemas by name or pattern."""

    exclude: tuple[str, ...] = ()  # tables left out by name (--exclude-tables)
    skip_refused: bool = False  # leave out refused tables, naming each, instead of stopping
    # carry types the target lacks (or holds only lossily) as the source server's exact text
    carry_as_text: bool = False
    # lossy mappings: True accepted, False refused (a refusal like any other), None only
    # flagged in the plan (`sluice plan`, `verify`: the copy decides)
    allow_lossy: bool | None = None
    schemas: tuple[str, ...] = ()  # the schemas read (--schemas); () every schema
    exclude_schemas: tuple[str, ...] = ()  # (--exclude-schemas)
    schema_map: tuple[tuple[str, str], ...] = ()  # source schema -> target schema
    # a MariaDB ENUM: "varchar" (its longest member's width) or "type" (an enum type made on
    # a target that has them, PostgreSQL: the members in order; --enums type)
    enums: str = "varchar"
    # target names: "preserve" (the source's), "lower" or "snake" (`core.naming`, ADR 0017)
    identifiers: str = "preserve"
    # row filters and column choices (copy.filters, docs/selection.md): (table, condition in
    # the source's SQL); "table.column" left out; ("table.column", "hash|null|fixed:VALUE")
    where: tuple[tuple[str, str], ...] = ()
    exclude_columns: tuple[str, ...] = ()
    mask: tuple[tuple[str, str], ...] = ()
    # a column's collation on the target: "source" (its own, or the target's equivalent,
    # e.g. case-insensitive stays so) or "target" (the target's default, each one listed as
    # not carried; docs/definitions-across-engines.md)
    collations: str = "source"

    @classmethod
    def of(cls, options: Any) -> Selection:
        """The selection an options class (copy, verify, sync: the same fields) asks for."""
        return cls(tuple(options.exclude), options.skip_refused, options.carry_as_text,
                   options.allow_lossy, tuple(options.schemas), tuple(options.exclude_schemas),
                   tuple(options.schema_map), options.enums,
                   options.identifiers,
                   tuple(getattr(options, "where", ())),
                   tuple(getattr(options, "exclude_columns", ())),
                   tuple(getattr(options, "mask", ())),
                   getattr(options, "collations", "source"))  # fmt: skip


ENUM_POLICIES = ("varchar", "type")
COLLATION_POLICIES = ("source", "target")
CHOICES = {"enums": ENUM_POLICIES, "collations": COLLATION_POLICIES}  # option -> its choices
ALL = Selection()  # every table; refusals stop the command


@dataclass(frozen=True)
class Skipped:
    """A table a command left out, and why (refused, or excluded by name)."""

    table: str
    reason: str


def refusal(refused: Sequence[DataError]) -> DataError:
    """One error naming every refused column (the first in full, the others shortly), ending
    with how to copy the other tables; of the first's class, so an unmappable type stays an
    UnmappableType."""
    first = refused[0]
    more = ""
    if len(refused) > 1:
        more = f"; and {len(refused) - 1} more: " + "; ".join(_short(e) for e in refused[1:])
    tables = ",".join(dict.fromkeys(e.table for e in refused))
    more += f" ({SKIP_HINT.format(names=tables)})"
    if isinstance(first, UnmappableType):
        return UnmappableType(first.table, first.column, first.source_type, first.target,
                              hint=first.hint, more=more)  # fmt: skip
    return DataError(first.table, first.column, None, first.reason + more)


def _short(e: DataError) -> str:
    """`table 't', column 'c': type inet (--carry-as-text)`: the kind's wording once."""
    if isinstance(e, UnmappableType):
        option = f" ({e.hint})" if e.hint else ""
        return f"table {e.table!r}, column {e.column!r}: type {e.source_type}{option}"
    return str(e)


def reasons_by_table(refused: Sequence[DataError]) -> dict[str, str]:
    """Table -> why it is refused (its refusals, without the table's name repeated)."""
    out: dict[str, list[str]] = {}
    for e in refused:
        text = str(e)
        prefix = f"table {e.table!r}, "
        out.setdefault(e.table, []).append(text[len(prefix) :] if text.startswith(prefix) else text)
    return {t: "; ".join(r) for t, r in out.items()}


def lossy_refusal(table: str, column: str, source_type: str, target_type: str, note: str,
                  carriable: bool) -> DataError:  # fmt: skip
    """A lossy mapping the user did not accept, as a refusal naming what would carry it."""
    options = "--allow-lossy accepts it" + (
        ", --carry-as-text carries it exactly as text" if carriable else ""
    )
    why = f"type {source_type} -> {target_type} is lossy ({note}); {options}"
    return DataError(table, column, None, why)
