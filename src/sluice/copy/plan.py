"""Plan a copy: reflect the source once, map every column, order tables, cut key ranges.

The `Plan` is plain, typed, serialisable data: `sluice plan` prints it, Airflow
tasks pass it around as JSON, and every later stage works from it without
reflecting again. It never holds a password: URLs appear masked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sluice.copy import filters, hierarchy
from sluice.copy import masks as masking
from sluice.copy.columns import ColumnMap, column_maps, landed_in
from sluice.copy.definition import needs_icu, settle, without_icu
from sluice.copy.not_carried import gather as not_carried
from sluice.copy.objects import plan_objects
from sluice.copy.outside import outside_item, outside_keys
from sluice.copy.reflect import reflect_tables
from sluice.copy.refusals import ALL, Selection, Skipped, reasons_by_table, refusal
from sluice.copy.scope import landing_schemas
from sluice.copy.statistics import source_statistics
from sluice.core.definition import NotCarried
from sluice.core.errors import ConfigError, DataError, EmptySource
from sluice.core.naming import Names, convert, plan_names, rename_foreign_key
from sluice.core.objects import SequenceDef, View, objects_from
from sluice.core.plain import foreign_key_from, names_from, plain, table_from
from sluice.core.schema import ForeignKey, NativeType, Table, order_by_references
from sluice.core.types import Kind
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.dialects.raw_paths import raw_import_possible, table_raw_format

DEFAULT_CHUNK_ROWS = 250_000
# A chunk also stops at about this many bytes of the source relation, so a wide table (long
# post bodies) is cut as finely as a narrow one and no single chunk runs alone at the end.
DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024
INTEGER_KINDS = (Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT)


@dataclass(frozen=True)
class Chunk:
    """Rows with `lo < key <= hi` (an open end is None); the unit of work and of retry.
    `table` is the table's qualified key (`Table.key`)."""

    table: str
    index: int
    lo: int | None = None
    hi: int | None = None

    @property
    def label(self) -> str:
        lo = "-inf" if self.lo is None else str(self.lo)
        hi = "+inf" if self.hi is None else str(self.hi)
        return f"{self.table}#{self.index} ({lo}, {hi}]"


@dataclass(frozen=True)
class TablePlan:
    table: Table  # the source table, in neutral types
    columns: tuple[ColumnMap, ...]
    chunks: tuple[Chunk, ...]
    rows: int
    passthrough: bool = False  # raw bytes, no decoding (identical types, or an import format)
    bytes: int = 0  # the source relation's size where the engine reports it, else 0
    # when passthrough: "postgresql-binary" or "postgresql-text" (types that are not built in),
    # or "csv" for LOAD DATA
    raw_format: str = ""
    target_schema: str | None = None  # where it lands (None: the target's default schema)
    names: Names | None = None  # its target names (`--identifiers`); None: the source's
    # masked columns ((column, "hash" | "null" | "fixed:VALUE"), copy.masks) and columns left
    # out (--exclude-columns: neither read nor created); the row filter is `table.where`
    masks: tuple[tuple[str, str], ...] = ()
    excluded: tuple[str, ...] = ()
    # (min, max) of an integer key as planned: a resume refuses a source whose range moved
    key_range: tuple[int, int] | None = None

    @property
    def chunk_bytes(self) -> float:
        """The expected size of one chunk (by bytes when known, else by rows): for scheduling."""
        return (self.bytes or self.rows) / max(1, len(self.chunks))

    @property
    def name(self) -> str:
        """The qualified key (ADR 0014): what plans, chunks, progress and reports name."""
        return self.table.key

    @property
    def target(self) -> Table:
        """The table as it lands: in its target schema, with its target names (the source's
        stays in `table`), without the source's row filter (never applied to the target)."""
        table = self.names.apply(self.table) if self.names else self.table
        return replace(table, schema=self.target_schema, where="")

    def target_column(self, name: str) -> str:
        """The target name of source column `name`."""
        return self.names.column(name) if self.names else name

    @property
    def target_key(self) -> str:
        return self.target.key

    @property
    def key(self) -> tuple[str, ...]:
        return self.table.primary_key


@dataclass(frozen=True)
class Plan:
    source: str  # masked URLs, for display only
    target: str
    source_engine: str
    target_engine: str
    tables: tuple[TablePlan, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()  # declared on the source: created on the target
    logical_foreign_keys: tuple[ForeignKey, ...] = ()  # configured: ordering and checks only
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    notes: tuple[str, ...] = field(default=())
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    # the source engine's own types the columns use, created on a same-engine target first
    native_types: tuple[NativeType, ...] = ()
    # tables left out, each with its reason (--exclude-tables, or refused with --skip-refused)
    skipped: tuple[Skipped, ...] = ()
    identifiers: str = "preserve"  # how target names were made (`core.naming`)
    # the source's views (dependencies first) and sequences, carried or not (copy.objects)
    views: tuple[View, ...] = ()
    sequences: tuple[SequenceDef, ...] = ()
    # what the copy will not create, with its source DDL: the plan's last section (issue 26)
    not_carried: tuple[NotCarried, ...] = ()
    # declared keys to a table outside the copy (--tables, excluded, skipped), the referenced
    # end as it lands on the target: created when the target has that table with a key on
    # those columns, else listed (ADR 0021)
    outside_foreign_keys: tuple[ForeignKey, ...] = ()

    def table(self, name: str) -> TablePlan:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def target_foreign_key(self, fk: ForeignKey) -> ForeignKey:
        """`fk` (between two tables' plan keys) as the target names it: its tables, columns
        and its own name (`--identifiers`); the schemas stay the source's (`finish.landed`)."""
        names = {t.name: t.names for t in self.tables if t.names}
        return rename_foreign_key(fk, names, self.identifiers) if names else fk

    @property
    def chunks(self) -> list[Chunk]:
        return [c for t in self.tables for c in t.chunks]

    def largest_first(self) -> list[Chunk]:
        """The chunks, largest first (by bytes where known): the long tail is short and small
        tables fill the gaps."""
        return sorted(self.chunks, key=lambda c: -self.table(c.table).chunk_bytes)

    def lossy(self) -> list[tuple[str, ColumnMap]]:
        return [(t.name, c) for t in self.tables for c in t.columns if c.fidelity == "lossy"]

    def without(self, skipped: Sequence[Skipped]) -> Plan:
        """This plan without `skipped`'s tables (by qualified key) and the foreign keys
        touching them (a table refused mid-copy), each added to `skipped` with its reason; a
        key to a skipped table becomes a key outside the copy (made if the target has that
        table, as it was, with a matching key)."""
        gone = {s.table for s in skipped} & {t.name for t in self.tables}
        if not gone:
            return self
        kept = [fk for fk in self.foreign_keys if fk.table_key not in gone]
        notes = [f"{fk.table_key}: foreign key {fk.name}: {fk.ref_key} is skipped; created if "
                 "the target has it with a matching key, else listed"
                 for fk in kept if fk.ref_key in gone]  # fmt: skip
        outside = [fk for fk in self.outside_foreign_keys if fk.table_key not in gone]
        for fk in kept:
            if fk.ref_key in gone:  # its referenced end as it lands, the other as planned
                ref, there = self.target_foreign_key(fk), self.table(fk.ref_key).target_schema
                outside.append(replace(fk, ref_table=ref.ref_table, ref_columns=ref.ref_columns,
                                       ref_schema=there))  # fmt: skip
        return replace(
            self, tables=tuple(t for t in self.tables if t.name not in gone),
            foreign_keys=tuple(fk for fk in kept if fk.ref_key not in gone),
            logical_foreign_keys=tuple(fk for fk in self.logical_foreign_keys
                                       if not {fk.table_key, fk.ref_key} & gone),
            notes=self.notes + tuple(notes), outside_foreign_keys=tuple(outside),
            skipped=self.skipped + tuple(s for s in skipped if s.table in gone),
        )  # fmt: skip

    # --- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return plain(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        return Plan(
            source=d["source"],
            target=d["target"],
            source_engine=d["source_engine"],
            target_engine=d["target_engine"],
            tables=tuple(_table_plan(t) for t in d["tables"]),
            foreign_keys=tuple(foreign_key_from(f) for f in d["foreign_keys"]),
            logical_foreign_keys=tuple(foreign_key_from(f) for f in d["logical_foreign_keys"]),
            chunk_rows=d["chunk_rows"],
            notes=tuple(d.get("notes", ())),
            chunk_bytes=d.get("chunk_bytes", DEFAULT_CHUNK_BYTES),
            native_types=tuple(NativeType(**n) for n in d.get("native_types", ())),
            skipped=tuple(Skipped(**s) for s in d.get("skipped", ())),
            identifiers=d.get("identifiers", "preserve"),
            **objects_from(d),  # views and sequences
            not_carried=tuple(NotCarried(**n) for n in d.get("not_carried", ())),
            outside_foreign_keys=tuple(foreign_key_from(f)
                                       for f in d.get("outside_foreign_keys", ())),
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.from_dict(json.loads(text))


def _table_plan(d: dict[str, Any]) -> TablePlan:
    return TablePlan(
        table=table_from(d["table"]),
        columns=tuple(ColumnMap(**c) for c in d["columns"]),
        chunks=tuple(Chunk(**c) for c in d["chunks"]),
        rows=d["rows"],
        passthrough=d["passthrough"],
        bytes=d.get("bytes", 0),
        raw_format=d.get("raw_format", ""),
        target_schema=d.get("target_schema"),
        names=names_from(d.get("names")),
        masks=tuple(tuple(m) for m in d.get("masks", ())),
        excluded=tuple(d.get("excluded", ())),
        key_range=tuple(d["key_range"]) if d.get("key_range") else None,  # type: ignore[arg-type]
    )


# --- building a plan -------------------------------------------------------------------------


def build_plan(
    source: DbUrl,
    target: DbUrl,
    *,
    tables: Sequence[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    logical_foreign_keys: Sequence[ForeignKey] | None = None,
    allow_empty: bool = False,
    selection: Selection = ALL,
) -> Plan:
    """Reflect `source` and plan the copy of its tables (or `tables`) into `target`; a source
    without tables is refused unless `allow_empty` (see `require_tables`). `selection` says
    which tables are left out and what happens to refused ones (`copy.refusals`)."""
    if chunk_rows < 1:
        raise ConfigError(f"chunk rows must be >= 1, got {chunk_rows}")
    if chunk_bytes < 1:
        raise ConfigError(f"chunk bytes must be >= 1, got {chunk_bytes}")
    refused: list[DataError] = []
    skipped: list[Skipped] = []
    reflected = reflect_tables(source, tables, (), refused, selection, skipped)
    if not refused:
        require_tables(reflected, source, allow_empty)
    dialect = get_dialect(source.engine)
    schemas = (dialect.url_schema(source), get_dialect(target.engine).url_schema(target))
    reflected = filters.filtered(reflected, selection, schemas[0])  # counted through --where
    filters.check_conditions(source, reflected)
    stats, sizes, natives, objects = source_statistics(source, reflected)
    plan = plan_tables(
        reflected, stats, source.engine, target.engine, str(source), str(target),
        chunk_rows=chunk_rows, chunk_bytes=chunk_bytes, sizes=sizes,
        logical_foreign_keys=logical_foreign_keys, raw_import=raw_import_possible(source, target),
        selection=selection, refused=refused, spatial=spatial_for(reflected, target),
        skipped=skipped, defaults=schemas,
    )  # fmt: skip
    plan = replace(plan, **plan_objects(*objects, plan, selection, schemas))  # copy.objects
    # defaults, collations, CHECKs the target cannot make: not carried (--collations)
    plan = settle(plan, selection.collations)
    plan = replace(plan, native_types=natives + plan.native_types) if natives else plan
    if needs_icu(plan):  # an ICU-less PostgreSQL (the embedded one): listed, not made
        plan = without_icu(plan, get_dialect(target.engine).icu_ready(target))
    return replace(plan, not_carried=not_carried(source, plan, selection, schemas))  # last


def require_tables(reflected: Sequence[Table], source: DbUrl, allow_empty: bool) -> None:
    """A source without tables is most often a wrong URL (a typo in the database name, a
    fresh database), so succeeding on it would report success for nothing: refuse it unless
    the caller says an empty source is expected."""
    if not reflected and not allow_empty:
        raise EmptySource(
            f"the source {source} holds no tables: nothing to do (check the URL; "
            "--allow-empty accepts an empty source)"
        )


def plan_tables(
    reflected: Sequence[Table],
    stats: dict[str, tuple[Any, Any, int]],
    source_engine: str,
    target_engine: str,
    source_label: str,
    target_label: str,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    sizes: dict[str, int] | None = None,
    logical_foreign_keys: Sequence[ForeignKey] | None = None,
    raw_import: bool = False,
    selection: Selection = ALL,
    refused: Sequence[DataError] = (),
    spatial: str | None = None,
    skipped: Sequence[Skipped] = (),
    defaults: tuple[str | None, str | None] | None = None,
) -> Plan:
    """The plan for known tables, key statistics ((min, max, rows) per table key) and, where
    the engine reports them, relation sizes in bytes (chunks are cut by rows and by bytes).
    `refused`: what reflection already refused; `spatial`: the target's geometry type, if
    it has one (`Dialect.spatial_type`); `skipped`: the tables the selection left out;
    `defaults`: the source's and the target's default schema names (`copy.scope`); an enum
    type (`--enums type`) is made in its table's landing schema."""
    src, dst = get_dialect(source_engine), get_dialect(target_engine)
    defaults = defaults or (src.caps.default_schema, dst.caps.default_schema)
    # a table named in the default schema is keyed as one of no schema (ADR 0014)
    reflected = [replace(t, schema=None) if t.schema == defaults[0] else t for t in reflected]
    chosen: list[str] = []  # what the row filters and column choices did (notes)
    reflected, masks, excluded = filters.apply(reflected, selection, defaults[0], chosen)
    refused = list(refused)
    made: list = []  # types made for the target ((table key, NativeType)) and notes (str)
    mapped = {t.key: column_maps(src, dst, t, refused, selection,
                                 (spatial, landed_in(t, selection, defaults, dst), made))
              for t in reflected}  # fmt: skip
    skipped = list(skipped)
    if refused and not selection.skip_refused:
        raise refusal(refused)
    reasons = reasons_by_table(refused)
    skipped += [Skipped(t, why) for t, why in reasons.items()]
    reflected = [mapped[t.key][0] for t in reflected if t.key not in reasons]
    landing = landing_schemas(reflected, selection, defaults, dst)
    declared = tuple(fk for t in reflected for fk in t.foreign_keys)
    logical = tuple(logical_foreign_keys or ()) or _configured(reflected, declared)
    names = {t.key for t in reflected}
    ordering = [fk for fk in declared + logical if fk.ref_key in names]
    ordered = order_by_references(reflected, ordering)
    outside = outside_keys(declared, names, selection, defaults)
    notes = [f"{fk.table_key}: foreign key {fk.name} references {fk.ref_key}, outside the "
             "copy: created if the target has it with a key on "
             f"({', '.join(fk.ref_columns)}), else listed" for fk in outside]  # fmt: skip
    notes += [m for m in made if isinstance(m, str)] + chosen
    if logical and not declared:
        notes.append("source declares no foreign keys: configured logical keys order the tables")
    maps_of = {t.key: mapped[t.key][1] for t in ordered}
    policy = selection.identifiers
    landing = {k: s if s is None else convert(s, policy) for k, s in landing.items()}
    ordered = target_indexes(dst, ordered, notes, landing)
    renamed = plan_names(ordered, policy, landing, dst.caps.index_names_per_table,
                         dst.caps.max_identifier_length)  # fmt: skip
    planned = []
    for table in ordered:
        maps = maps_of[table.key]
        lo, hi, rows = stats[table.key]
        # a filtered table's size on disk is not its selected rows': cut by rows alone
        size = 0 if table.where else (sizes or {}).get(table.key, 0)
        per_chunk = chunk_rows
        if size > chunk_bytes and rows:
            per_chunk = max(1, min(chunk_rows, rows * chunk_bytes // size))
        chunks = _chunks(table, lo, hi, rows, per_chunk)
        masked = masks.get(table.key, ())
        # masks are applied in Python: a masked table moves as decoded values, never raw bytes
        raw_format = "" if masked else table_raw_format(src, dst, table, maps, raw_import)
        span = (lo, hi) if isinstance(lo, int) and isinstance(hi, int) else None
        planned.append(TablePlan(table, maps, chunks, rows, bool(raw_format), size, raw_format,
                                 landing[table.key], renamed.get(table.key), masked,
                                 excluded.get(table.key, ()), span))  # fmt: skip
        notes += _chosen_notes(table, masked, excluded.get(table.key, ()), rows)
        if not table.primary_key:
            notes.append(f"{table.key}: no primary key, copied whole in one chunk")
    return Plan(
        source=source_label,
        target=target_label,
        source_engine=source_engine,
        target_engine=target_engine,
        tables=tuple(planned),
        foreign_keys=tuple(fk for fk in declared if fk.ref_key in names),
        logical_foreign_keys=tuple(fk for fk in logical if fk.ref_key in names),
        chunk_rows=chunk_rows,
        notes=tuple(notes),
        chunk_bytes=chunk_bytes,
        skipped=tuple(skipped),
        native_types=tuple(m[1] for m in made if isinstance(m, tuple) and m[0] in names),
        identifiers=policy,
        not_carried=tuple(hierarchy.not_carried(dst, [tp.table for tp in planned]))
        + tuple(outside_item(fk) for fk in outside),
        outside_foreign_keys=outside,
    )


def _chosen_notes(table: Table, masked, excluded, rows: int) -> list[str]:
    """The plan's lines for a table's row filter, masks and columns left out."""
    notes = []
    if table.where:
        notes.append(f"{table.key}: rows where ({table.where}): {rows:,} selected (--where)")
    if excluded:
        notes.append(f"{table.key}: columns left out: {', '.join(excluded)} (--exclude-columns)")
    for column, spec in masked:  # never a raw path: masks are computed in Python
        notes.append(f"{table.key}.{column}: --mask {masking.describe(spec)} (decoded path)")
    return notes


def spatial_for(tables: Sequence[Table], target: DbUrl) -> str | None:
    """The target's geometry type, asked only when a column needs one."""
    if any(c.type.kind is Kind.GEOMETRY for t in tables for c in t.columns):
        return get_dialect(target.engine).spatial_type(target)
    return None


def _configured(tables: Sequence[Table], declared: Sequence[ForeignKey]) -> tuple[ForeignKey, ...]:
    """Datasets known by their table names supply logical keys when the source declares none."""
    if declared:
        return ()
    from sluice.datasets.stackoverflow import FOREIGN_KEYS, TABLE_NAMES

    names = {t.key for t in tables}  # the dataset's tables in the default schema
    return FOREIGN_KEYS if names and names <= set(TABLE_NAMES) else ()


def target_indexes(dst, tables: Sequence[Table], notes: list[str],
                   landing: dict[str, Any] | None = None) -> list[Table]:  # fmt: skip
    """The tables with the indexes the target builds: kinds it has no form for are left out
    (with a note), and where index names are unique per schema rather than per table
    (PostgreSQL) a name that collides with a table or another index of its target schema
    (`landing`: key -> schema) gets the table's name before it, deterministically (tables in
    plan order, indexes in catalog order)."""
    landing = landing or {}
    taken: dict[Any, set[str]] = {}
    for t in tables:
        names = taken.setdefault(landing.get(t.key), set())
        names.add(t.name.lower())
        if t.primary_key:
            names.add((t.primary_key_name or f"PK_{t.name}").lower())
    limit = dst.caps.max_identifier_length
    out = []
    for t in tables:
        kept = []
        for ix in t.indexes:
            if ix.kind == "constraint" and ix.kind not in dst.caps.index_kinds:
                ix = replace(ix, kind="")  # a UNIQUE constraint's index: a unique index there
            if ix.kind and ix.kind not in dst.caps.index_kinds:
                notes.append(f"{t.key}: {ix.kind.upper()} index {ix.name!r} is not rebuilt: "
                             f"{dst.name} has no such index (build one by hand)")  # fmt: skip
                continue
            if not dst.caps.index_names_per_table:
                name, here = ix.name, taken[landing.get(t.key)]
                if name.lower() in here:
                    name = _unique(f"{t.name}_{ix.name}", here, limit)
                    notes.append(f"{t.key}: index {ix.name!r} is named {name!r} on {dst.name} "
                                 "(index names are unique per schema there)")  # fmt: skip
                here.add(name.lower())
                ix = replace(ix, name=name)
            kept.append(ix)
        out.append(replace(t, indexes=tuple(kept)) if tuple(kept) != t.indexes else t)
    return out


def _unique(name: str, taken: set[str], limit: int) -> str:
    candidate, n = name[:limit], 1
    while candidate.lower() in taken:
        n += 1
        suffix = f"_{n}"
        candidate = name[: limit - len(suffix)] + suffix
    return candidate


def _chunks(table: Table, lo: Any, hi: Any, rows: int, chunk_rows: int) -> tuple[Chunk, ...]:
    """Equal-width ranges over an integer key; one open chunk for anything else."""
    key = table.primary_key
    integer_key = len(key) == 1 and table.column(key[0]).type.kind in INTEGER_KINDS
    if not integer_key or lo is None or hi is None or rows <= chunk_rows:
        return (Chunk(table.key, 0),)
    n = math.ceil(rows / chunk_rows)
    step = max(1, math.ceil((hi - lo + 1) / n))
    bounds = [lo - 1 + i * step for i in range(1, n) if lo - 1 + i * step < hi]
    edges: list[int | None] = [None, *bounds, None]
    return tuple(Chunk(table.key, i, edges[i], edges[i + 1]) for i in range(len(edges) - 1))
