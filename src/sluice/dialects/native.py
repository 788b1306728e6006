"""The hooks through which an engine keeps its own types on a target of the same engine
(ADR 0013): the exact declaration of each column, rendered verbatim only by that engine's
dialect, the engine-defined types it depends on, and the raw format that carries them.
`Dialect` inherits these defaults: an engine that records no declarations changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.errors import TerminalError
from sluice.core.schema import NativeType, Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl


class NativeTypes:
    name: str
    raw_copy_format: str | None = None
    # whether, as a source, this engine reads a column as its server's exact text when the
    # plan carries it so (Kind.TEXT_FORM, --carry-as-text): the types it records `native`
    text_form = False

    def spatial_type(self, url: DbUrl) -> str | None:
        """The declaration of this server's geometry type (PostGIS's, where the extension is
        installed in the URL's database), or None: geometries then go as EWKB bytes."""
        return None

    def native_columns(self, bind: Any, schema: str | None, tables: Sequence[str]) -> dict:
        """Each column's own exact declaration, read once for all tables: {(table, column):
        what `with_native` takes}. An engine that records none returns {}."""
        return {}

    def with_native(self, t: SqlType | None, info: Any) -> SqlType | None:
        """The reflected neutral type (None: there is none) with this engine's own declaration
        (`info` from `native_columns`) attached; a type without a neutral kind becomes
        Kind.NATIVE, which only this engine can store."""
        return t

    def carries(self, t: SqlType) -> bool:
        """Whether a column of type `t` can be created here: every neutral kind, and a
        Kind.NATIVE type only when it came from this same engine."""
        return t.kind is not Kind.NATIVE or t.engine == self.name

    def render_native(self, t: SqlType) -> str | None:
        """The source's own declaration, verbatim, when `t` came from this engine (a same-engine
        copy keeps every type exactly), else None. `render_type` asks this first."""
        return t.native if t.native is not None and t.engine == self.name else None

    def integer_bounds(self, t: SqlType) -> tuple[int, int] | None:
        """The values an integer column's own declaration holds where they are narrower than
        its neutral kind's (a MariaDB MEDIUMINT, an INT UNSIGNED), else None: a keyed hash
        (`--mask hash`) stays inside them on a target of the same engine."""
        return None

    def raw_copy_format_for(self, table: Table) -> str | None:
        """The raw format a table of identical declarations moves in between two databases of
        this engine (a binary format may embed ids that differ between databases)."""
        return self.raw_copy_format

    def enum_members(self, t: SqlType) -> tuple[str, ...] | None:
        """The members, in order, of a column of this engine's enumeration type (a MariaDB
        ENUM), else None."""
        return None

    def enum_type(self, schema: str, table: str, column: str,
                  members: Sequence[str]) -> tuple[SqlType, NativeType] | None:  # fmt: skip
        """An enumeration type of this engine for `members` (`--enums type`): the column's
        type and the type to create, named after the column deterministically in `schema`;
        None where the engine has no such types (the column stays a varchar)."""
        return None

    def native_types(self, url: DbUrl, tables: Sequence[Table], conn: Any = None) -> tuple:
        """The engine-defined types (`schema.NativeType`: enums, domains, composites, extensions'
        types) the tables' columns use, dependencies first, for a target of the same engine;
        read on `conn` when given (the plan's, watched for a stall)."""
        return ()

    def create_native_types(self, conn: Any, types: Sequence[Any]) -> None:
        """Make the source's engine-defined types exist here before the tables are created,
        or refuse, naming the type or extension and the columns that need it."""
        mine = [t for t in types if t.engine == self.name]
        if mine:
            raise TerminalError(f"{self.name} cannot create the types {mine[0].used_by} use")
