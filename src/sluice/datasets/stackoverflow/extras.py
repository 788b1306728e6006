"""`--keep-extra-columns`: attributes of newer dumps that StackOverflow2010 has no column for
(ContentLicense, OwnerDisplayName, Badges.Class and TagBased, ProfileImageUrl, ...) kept as
nullable columns after the schema's own.

A table is created before its rows stream in, so its extra columns must be known first: one
pass over each document collects the attribute names (an extra read of the dump, only with
the option). Types: the attributes whose type Stack Exchange documents and every dump agrees
on are typed (`EXTRA_TYPES`); any other is text (nvarchar(max) in the neutral vocabulary),
which holds whatever the attribute carries, so an unforeseen value never stops an import.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from sluice.core.errors import InputFileError
from sluice.core.schema import Column, Table
from sluice.datasets.stackoverflow.sources import DumpFile

log = logging.getLogger(__name__)

TEXT = "nvarchar(max)"
# (table, attribute) -> SQL Server type, for attributes documented with a type: Class is
# 1 gold, 2 silver, 3 bronze; TagBased is True or False.
EXTRA_TYPES: dict[tuple[str, str], str] = {
    ("Badges", "Class"): "int",
    ("Badges", "TagBased"): "bit",
}
# a column name every engine takes quoted, within the shortest limit (MySQL's 64)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def extra_attributes(table: Table, rows: Iterable[tuple[int, dict[str, str]]]) -> list[str]:
    """Attribute names in `rows` (`read_rows` of the table's document) that `table` has no
    column for, in order of first use."""
    known = frozenset(table.column_names)
    found: dict[str, None] = {}
    for _, attrs in rows:
        if not known.issuperset(attrs):
            for name in attrs:
                if name not in known:
                    found.setdefault(name, None)
    return list(found)


def with_extra_columns(table: Table, names: list[str], source: DumpFile | Path) -> Table:
    """`table` with a nullable column per name after its own; a name no engine can take as
    written, or one equal to a column but for case, is an error naming the document."""
    from sluice.dialects.mssql_types import parse_type

    taken = {c.lower() for c in table.column_names}
    columns = list(table.columns)
    for name in names:
        if not _NAME.fullmatch(name):
            raise InputFileError(source, f"attribute {name!r} cannot be kept as a column name")
        if name.lower() in taken:
            raise InputFileError(
                source, f"attribute {name!r} differs only in case from a column of {table.name}"
            )
        taken.add(name.lower())
        sqltype = EXTRA_TYPES.get((table.name, name), TEXT)
        columns.append(Column(name, parse_type(sqltype), nullable=True))
    if names:
        log.info("%s: keeping extra attribute(s) as columns: %s", table.name, ", ".join(names))
    return replace(table, columns=tuple(columns))


__all__ = ["EXTRA_TYPES", "TEXT", "extra_attributes", "with_extra_columns"]
