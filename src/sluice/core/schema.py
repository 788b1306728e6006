"""The engine-neutral description of tables: what a plan, a DDL renderer and a loader share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sluice.core.definition import Check, Default, Partitioning
from sluice.core.types import SqlType


@dataclass(frozen=True)
class Column:
    name: str
    type: SqlType
    nullable: bool = True
    identity: bool = False
    # the rest of its definition (issue 26, core.definition): what the source declares
    identity_kind: str = ""  # ALWAYS, BY_DEFAULT or SERIAL when `identity`; "": not read
    default: Default | None = None
    on_update: str = ""  # "now": MySQL's ON UPDATE CURRENT_TIMESTAMP
    comment: str | None = None
    collation: str | None = None  # the source's collation name where it is not the default
    # whether that collation compares case-insensitively (None: not known)
    case_insensitive: bool | None = None


@dataclass(frozen=True)
class NativeType:
    """A type the source engine defines and copied columns use (an enum, a domain, a
    composite, an extension's type): made on a target of the same engine before the tables.

    `kind` is "extension" (then `name` is the extension's), "enum", "domain", "composite",
    or "other" (a type sluice cannot create: it must exist on the target already); `ddl`
    creates it; `used_by` names the columns ("table.column, ...") for messages."""

    engine: str
    kind: str
    schema: str
    name: str
    ddl: str = ""
    used_by: str = ""


def qualified_key(schema: str | None, name: str) -> str:
    """The name a table is known by in plans, chunk labels, progress, reports, sync state
    and options: `name` in the default schema (as before schemas were read), else
    `schema.name` (ADR 0014)."""
    return name if schema is None else f"{schema}.{name}"


@dataclass(frozen=True)
class ForeignKey:
    """A logical or declared reference: `table(columns) -> ref_table(ref_columns)`.

    `schema` and `ref_schema` place the two ends (None: the default schema); `table_key` and
    `ref_key` are the ends' qualified keys, by which plans order and match tables."""

    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    schema: str | None = None
    ref_schema: str | None = None
    constraint: str | None = None  # its name: the source's, then the target's (`core.naming`)
    on_delete: str = ""  # "CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"; "": NO ACTION
    on_update: str = ""
    deferrable: bool = False
    initially_deferred: bool = False

    @property
    def name(self) -> str:
        return self.constraint or f"FK_{self.table}_{'_'.join(self.columns)}"

    @property
    def table_key(self) -> str:
        return qualified_key(self.schema, self.table)

    @property
    def ref_key(self) -> str:
        return qualified_key(self.ref_schema, self.ref_table)


@dataclass(frozen=True)
class Index:
    """A secondary index, rebuilt on the target after the data is in."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    kind: str = ""  # "" for an ordinary index; "fulltext" or "spatial" (MySQL's own kinds)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    schema: str | None = None
    foreign_keys: tuple[ForeignKey, ...] = field(default=())
    indexes: tuple[Index, ...] = field(default=())
    primary_key_name: str | None = None
    # a row filter in the source's own SQL (`--where`, docs/selection.md): ANDed into every
    # read of the source table; never set on a target table
    where: str = ""
    # the rest of its definition (issue 26, core.definition)
    checks: tuple[Check, ...] = field(default=())
    comment: str | None = None
    inherits: tuple[str, ...] = ()  # the plan keys of its parents (PostgreSQL inheritance)
    partitioning: Partitioning | None = None

    @property
    def key(self) -> str:
        """The qualified key (`qualified_key`): `name`, or `schema.name` outside the default."""
        return qualified_key(self.schema, self.name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def identity(self) -> Column | None:
        return next((c for c in self.columns if c.identity), None)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def order_by_references(tables: Sequence[Table], fks: Iterable[ForeignKey]) -> list[Table]:
    """Referenced tables first; ties keep the given order; cycles fall back to the given order.

    Self references (Posts.ParentId -> Posts.Id) never constrain the order.
    """
    by_name = {t.key: t for t in tables}
    deps: dict[str, set[str]] = {t.key: set() for t in tables}
    for fk in fks:
        if fk.table_key in deps and fk.ref_key in by_name and fk.ref_key != fk.table_key:
            deps[fk.table_key].add(fk.ref_key)
    ordered: list[Table] = []
    done: set[str] = set()
    while len(ordered) < len(tables):
        ready = [t for t in tables if t.key not in done and deps[t.key] <= done]
        if (
            not ready
        ):  # a cycle: take the first remaining table, its constraints come after the data
            ready = [next(t for t in tables if t.key not in done)]
        for t in ready:
            ordered.append(t)
            done.add(t.key)
    return ordered
