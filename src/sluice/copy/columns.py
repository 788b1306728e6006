"""How each column of a table is carried to the target: its mapping (source declaration ->
neutral type -> target declaration, with its fidelity), a type the target lacks carried as
the source's text, a geometry retyped, an ENUM made an enum type in the table's landing
schema; a column the target cannot hold is a refusal named by table and column."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sluice.copy.refusals import Selection, lossy_refusal
from sluice.copy.scope import target_schema
from sluice.core.errors import DataError, UnmappableType
from sluice.core.naming import convert
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType


@dataclass(frozen=True)
class ColumnMap:
    """One column's journey: source declaration -> neutral type -> target declaration."""

    name: str
    source_type: str
    target_type: str
    fidelity: str  # "exact", "widening" or "lossy"
    note: str = ""


def landed_in(table: Table, selection: Selection, defaults, dst) -> str:
    """The schema `table` lands in, named (its target's default schema by the target URL's
    name), in the target's identifier style (`--identifiers`): where its enum types are made
    (`--enums type`)."""
    mapped = target_schema(table.schema, selection, *defaults)
    if mapped is not None:
        mapped = convert(mapped, selection.identifiers)
    return mapped or defaults[1] or dst.caps.default_schema or ""


def column_maps(src, dst, table: Table, refused: list[DataError], selection: Selection,
                made: tuple) -> tuple[Table, tuple[ColumnMap, ...]]:  # fmt: skip
    """The table (columns carried as text or as the target's geometry retyped) and each
    column's mapping; a column the target cannot hold is added to `refused` (named by table,
    column and type, with the option that would carry it), so the plan lists every refusal
    of the database at once."""
    maps, columns = [], []
    for column in table.columns:
        try:
            column = _carried(src, dst, table, column, selection, made)
            maps.append(_column_map(src, dst, table, column, selection))
        except DataError as exc:
            refused.append(exc)
        columns.append(column)
    return replace(table, columns=tuple(columns)), tuple(maps)


def _carriable(src, column: Column) -> bool:
    """Whether the source can hand over its server's exact text of the column's type."""
    t = column.type
    return src.text_form and t.native is not None and t.engine == src.name


def _carried(src, dst, table: Table, column: Column, selection: Selection, made) -> Column:
    """The column as the copy moves it: a type the target lacks, or holds only lossily, as
    the source's text when `carry_as_text` allows (Kind.TEXT_FORM); a geometry as the target's
    geometry type where it has one (its declaration recorded in the type); an enumeration as
    an enum type made on the target (`enums="type"`, the type added to `made`)."""
    t = column.type
    spatial, schema, types = made
    if t.kind is Kind.GEOMETRY and spatial and t.engine != dst.name:
        return replace(column, type=replace(t, native=spatial, engine=dst.name))
    members = src.enum_members(t) if selection.enums == "type" else None
    if members is not None and t.engine != dst.name:
        style = selection.identifiers  # the type named after the table and column as they land
        enum = dst.enum_type(schema, convert(table.name, style), convert(column.name, style),
                             members)  # fmt: skip
        if enum is None:
            types.append(f"{table.key}.{column.name}: --enums type: no {dst.name} enum holds "
                         f"its members; kept as {dst.render_type(t)}")  # fmt: skip
            return column
        types.append((table.key, enum[1]))
        return replace(column, type=enum[0])
    if not (selection.carry_as_text and _carriable(src, column)):
        return column
    held = dst.carries(t) and _declared(dst, t) is not None and dst.fidelity(t)[0] != "lossy"
    return column if held else replace(column, type=replace(t, kind=Kind.TEXT_FORM))


def _column_map(src, dst, table: Table, column: Column, selection: Selection) -> ColumnMap:
    t = column.type
    carry = "--carry-as-text carries it exactly as text" if _carriable(src, column) else ""
    if not dst.carries(t):  # Kind.NATIVE: only its own engine stores it (ADR 0013)
        raise UnmappableType(table.key, column.name, f"{t.native} ({t.engine})", dst.name,
                             hint=carry)  # fmt: skip
    source_type = _declared(src, column.type)
    target_type = _declared(dst, column.type)
    if target_type is None:
        raise UnmappableType(table.key, column.name, source_type or column.type.describe(),
                             dst.name, hint=carry)  # fmt: skip
    kinds = dst.caps.identity_kinds
    own = dst.render_native(column.type) is not None  # the source's own declaration
    if column.identity and kinds is not None and column.type.kind not in kinds and not own:
        why = (f"identity column of type {source_type} cannot be an identity on {dst.name}, "
               "whose identity columns are integers of at most 64 bits")  # fmt: skip
        raise DataError(table.key, column.name, None, why)
    fidelity, note = dst.fidelity(column.type)
    if t.kind is Kind.TEXT_FORM:
        fidelity, note = "exact", f"{src.name}'s own text of it (--carry-as-text)"
    if fidelity == "lossy" and selection.allow_lossy is False and selection.skip_refused:
        raise lossy_refusal(table.key, column.name, source_type or t.describe(), target_type,
                            note, bool(carry))  # fmt: skip
    return ColumnMap(column.name, source_type or column.type.describe(), target_type, fidelity,
                     note)  # fmt: skip


def _declared(dialect, t: SqlType) -> str | None:
    """How `dialect` declares `t`, or None when it has no such type."""
    try:
        return dialect.render_type(t)
    except (NotImplementedError, KeyError):
        return None
