"""Views and standalone sequences (issue 24): what the source holds besides its tables.

Same-engine copies recreate them after the tables; elsewhere they are listed as not carried,
with their source DDL, never dropped silently. A `reason` says why one is not carried ("":
it is). Values only: the SQL that reads and makes them is each dialect's."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sluice.core.schema import qualified_key


@dataclass(frozen=True)
class View:
    schema: str | None  # the source's schema, as the engine names it (None: schemaless)
    name: str
    definition: str  # the query, as the source engine prints it
    references: tuple[str, ...] = ()  # "schema.name" of the relations it reads, where known
    key: str = ""  # as plans name it (ADR 0014): bare in the default schema
    ddl: str = ""  # the source's CREATE VIEW, for people (plans, reports)
    reason: str = ""  # why it is not carried; "" when it is
    target_schema: str | None = None  # where it lands (None: the target's default)


@dataclass(frozen=True)
class SequenceDef:
    schema: str | None
    name: str
    data_type: str  # "bigint", "integer", "smallint"
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    last_value: int | None  # None: never used
    is_called: bool  # whether last_value was handed out (PostgreSQL's is_called)
    key: str = ""
    ddl: str = ""
    reason: str = ""
    target_schema: str | None = None

    @property
    def next_value(self) -> int:
        """What the next nextval returns (a cycle past the end aside)."""
        if self.last_value is None:
            return self.start
        return self.last_value + self.increment if self.is_called else self.last_value


def keyed(obj: Any, default: str | None) -> Any:
    """`obj` with its plan key: bare in the `default` schema, else schema.name."""
    return replace(obj, key=qualified_key(None if obj.schema == default else obj.schema,
                                          obj.name))  # fmt: skip


def view_from(d: dict[str, Any]) -> View:
    return View(**{**d, "references": tuple(d.get("references", ()))})


def sequence_from(d: dict[str, Any]) -> SequenceDef:
    return SequenceDef(**d)


def objects_from(d: dict[str, Any]) -> dict[str, tuple]:
    """A plan dict's views and sequences, as `Plan`'s fields."""
    return {"views": tuple(view_from(v) for v in d.get("views", ())),
            "sequences": tuple(sequence_from(s) for s in d.get("sequences", ()))}  # fmt: skip
