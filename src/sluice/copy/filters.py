"""Row filters and column choices of a selection (docs/selection.md, ADR 0016): `--where`
(a condition in the source's own SQL, ANDed into every read of the table), `--exclude-columns`
(a column neither read nor created) and `--mask` (a column's values replaced on the way,
`copy.masks`).

Tables are named as everywhere else (ADR 0014): `schema.table`, a bare name in the default
schema. A name that is not a selected table, an unknown column, or a primary-key column left
out stops the command by name before anything moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sluice.copy import masks as masking
from sluice.core.errors import ConfigError
from sluice.core.schema import Table


def parse_where(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`table: condition` pairs (repeatable option; the condition may hold colons)."""
    pairs = []
    for value in values:
        name, sep, condition = value.partition(":")
        if not sep or not name.strip() or not condition.strip():
            raise ConfigError(f"--where takes 'table: condition', got {value!r}")
        pairs.append((name.strip(), condition.strip()))
    return tuple(pairs)


def parse_columns(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """--exclude-columns t.a,sales.t.b (a string, or the job file's list)."""
    items = text.split(",") if isinstance(text, str) else list(text or ())
    return tuple(i.strip() for i in items if i.strip())


def parse_masks(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`table.column=spec` pairs (repeatable option)."""
    pairs = []
    for value in values:
        column, sep, spec = value.partition("=")
        if not sep or "." not in column or not spec.strip():
            raise ConfigError(f"--mask takes table.column=hash|null|fixed:VALUE, got {value!r}")
        pairs.append((column.strip(), spec.strip()))
    return tuple(pairs)


def apply(tables: Sequence[Table], selection, default: str | None, notes: list[str]
          ) -> tuple[list[Table], dict[str, tuple], dict[str, tuple[str, ...]]]:  # fmt: skip
    """The tables with their `--where` filters set and excluded columns removed (with the
    indexes and foreign keys that use them, each named in `notes`), masked columns made
    nullable where `null` masks them; and per table key its masks ((column, spec), ...) and
    excluded column names. Tables are keyed with the default schema as None (`plan_tables`)."""
    tables = filtered(tables, selection, default)
    by_key = {t.key: t for t in tables}
    dropped: dict[str, list[str]] = {}
    for item in selection.exclude_columns:
        key, column = _column(by_key, item, default, "--exclude-columns")
        if column in by_key[key].primary_key:
            raise ConfigError(f"--exclude-columns {item}: {column!r} is in the primary key of "
                              f"{key}: a key column cannot be left out")  # fmt: skip
        dropped.setdefault(key, []).append(column)
    masked: dict[str, list[tuple[str, str]]] = {}
    for item, spec in selection.mask:
        key, column = _column(by_key, item, default, "--mask")
        if column in dropped.get(key, []):
            raise ConfigError(f"--mask {item}: the column is left out by --exclude-columns")
        t = by_key[key]
        spec = masking.check(key, t.column(column), spec, column in t.primary_key)
        masked.setdefault(key, []).append((column, spec))
    out = []
    refs = {(k, c) for k, cols in dropped.items() for c in cols}
    for t in tables:
        gone = set(dropped.get(t.key, ()))
        nulled = {c for c, spec in masked.get(t.key, ()) if spec == "null"}
        columns = tuple(replace(c, nullable=True) if c.name in nulled else c
                        for c in t.columns if c.name not in gone)  # fmt: skip
        indexes = []
        for ix in t.indexes:
            if gone & set(ix.columns):
                notes.append(f"{t.key}: index {ix.name!r} is not built: it uses a column left "
                             "out by --exclude-columns")  # fmt: skip
            else:
                indexes.append(ix)
        fks = []
        for fk in t.foreign_keys:
            if gone & set(fk.columns) or any((fk.ref_key, c) in refs for c in fk.ref_columns):
                notes.append(f"{t.key}: foreign key {fk.name} is not created: it uses a column "
                             "left out by --exclude-columns")  # fmt: skip
            else:
                fks.append(fk)
        for c in sorted(nulled):
            if not t.column(c).nullable:
                notes.append(f"{t.key}.{c}: created nullable on the target (--mask null)")
        out.append(replace(t, columns=columns, indexes=tuple(indexes), foreign_keys=tuple(fks)))
    return (out, {k: tuple(v) for k, v in masked.items()},
            {k: tuple(v) for k, v in dropped.items()})  # fmt: skip


def filtered(tables: Sequence[Table], selection, default: str | None) -> list[Table]:
    """The tables with their `--where` conditions set (`Table.where`): before the source's
    key statistics are read, so ranges and counts are the filtered rows'."""
    by_key = {t.key: t for t in tables}
    wheres = {_table(by_key, name, default, "--where"): cond
              for name, cond in selection.where}  # fmt: skip
    return [replace(t, where=wheres.get(t.key, "")) for t in tables]


def check_conditions(url, tables: Sequence[Table]) -> None:
    """Ask the source to run each table's `--where` once, over no rows, before anything else
    reads through it: a condition it refuses (a typo, an unknown column) stops the command
    naming the table and the server's words, instead of failing inside a chunk. Read-only,
    like every source read (ADR 0010)."""
    filtered = [t for t in tables if t.where]
    if not filtered:
        return
    from sluice.core.urls import redact_all
    from sluice.dialects import get_dialect

    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        d.begin_read(conn)
        cur = conn.cursor()
        for t in filtered:
            where, params = d.read_predicate(t, None, None)
            try:
                cur.execute(d.finalize(f"SELECT COUNT(*) FROM {d.qualified(t)}{where} AND 1 = 0"),
                            d.bind(params))  # fmt: skip
                cur.fetchall()
            except Exception as exc:
                if d.classify_fault(exc).retryable:
                    raise
                detail = redact_all(" ".join(str(exc).split()))
                raise ConfigError(f"--where {t.key}: the source refused the condition "
                                  f"({t.where}): {detail}") from None  # fmt: skip
        conn.rollback()
    finally:
        conn.close()


def _table(by_key: dict[str, Table], name: str, default: str | None, option: str) -> str:
    """The selected table's key `name` means (bare: the default schema, which may also be
    named), else an error naming the option and the selected tables."""
    if name in by_key:
        return name
    bare = name.removeprefix(f"{default}.") if default is not None else name
    if bare in by_key:  # the default schema named: `public.t` is `t`
        return bare
    listed = ", ".join(by_key) or "none"
    raise ConfigError(f"{option} names a table that is not selected: {name} "
                      f"(selected: {listed})")  # fmt: skip


def _column(by_key: dict[str, Table], item: str, default: str | None,
            option: str) -> tuple[str, str]:  # fmt: skip
    """(table key, column) of `schema.table.column` or `table.column`; unknown: an error."""
    name, _, column = item.rpartition(".")
    if not name or not column:
        raise ConfigError(f"{option} takes table.column (schema.table.column), got {item!r}")
    key = _table(by_key, name, default, option)
    names = by_key[key].column_names
    if column not in names:
        raise ConfigError(f"{option} {item}: table {key} has no column {column!r} "
                          f"(columns: {', '.join(names)})")  # fmt: skip
    return key, column
