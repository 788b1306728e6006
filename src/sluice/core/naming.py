"""How source names become target names (`--identifiers preserve|lower|snake`, ADR 0017).

One function (`convert`) decides a target name; the plan applies it once (`plan_names`) and
carries the result (`Names`, per table), so every later stage (prepare, copy, publish,
finish, verify, sync) uses the plan's target names and none derives them again.

snake: an underscore goes before an upper-case letter that follows a lower-case letter or a
digit (`OwnerUserId` -> `owner_user_id`, `Col2D` -> `col2_d`), and before the last capital
of a run of capitals followed by a lower-case letter (`HTMLBody` -> `html_body`, `UserID` ->
`user_id`); then everything is lower-cased. Digits never start a word of their own
(`Address2Line` -> `address2_line`), existing underscores stay and none is doubled, and any
other character (a space, a dash, a dot) is kept as it is: quoting carries it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sluice.core.errors import ConfigError
from sluice.core.schema import ForeignKey, Index, Table

POLICIES = ("preserve", "lower", "snake")


def snake(name: str) -> str:
    """`name` in snake_case by the rule in this module's docstring."""
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch.isupper() and i > 0:
            prev, nxt = name[i - 1], name[i + 1 : i + 2]
            if prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower()):
                out.append("_")
        out.append(ch.lower())
    return "".join(out)


def convert(name: str, policy: str) -> str:
    """The target name of source name `name` under `policy` (one of POLICIES)."""
    if policy == "preserve":
        return name
    if policy == "lower":
        return name.lower()
    if policy == "snake":
        return snake(name)
    raise ConfigError(f"--identifiers must be one of {', '.join(POLICIES)}, got {policy!r}")


@dataclass(frozen=True)
class Names:
    """One table's names on the target, fixed at plan time: the table's, each column's
    (source -> target, in table order), the primary key constraint's and each index's."""

    table: str
    columns: tuple[tuple[str, str], ...]
    primary_key: str | None = None
    indexes: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> str:
        """The target name of source column `name` (unchanged when not renamed)."""
        return dict(self.columns).get(name, name)

    def apply(self, table: Table) -> Table:
        """`table` (the source's, in neutral types) with its target names."""
        col, ixs = self.column, dict(self.indexes)
        return replace(
            table,
            name=self.table,
            columns=tuple(replace(c, name=col(c.name)) for c in table.columns),
            primary_key=tuple(col(k) for k in table.primary_key),
            primary_key_name=self.primary_key,
            indexes=tuple(
                Index(
                    ixs.get(ix.name, ix.name), tuple(col(c) for c in ix.columns), ix.unique, ix.kind
                )
                for ix in table.indexes
            ),  # fmt: skip
            foreign_keys=(),  # the plan's foreign keys: `rename_foreign_key`
        )


def plan_names(tables: Sequence[Table], policy: str, landing: Mapping[str, str | None],
               index_names_per_table: bool = True, limit: int | None = None,
               ) -> dict[str, Names]:  # fmt: skip
    """Table key -> its target names under `policy` (nothing for "preserve": the source's
    names stand). Two source names landing on one target name (columns of one table, tables
    or, where index names are per schema, indexes of one schema) stop the plan before
    anything is written, each collision naming both source names and the target name; so
    does a converted name over the target's identifier `limit` (in characters)."""
    convert("", policy)  # an unknown policy: refused even for a plan of no tables
    if policy == "preserve":
        return {}
    out: dict[str, Names] = {}
    problems: list[str] = []
    in_schema: dict[str | None, dict[str, str]] = {}
    for t in tables:  # tables (and their keys) first: an index gives way to them
        columns = tuple((c.name, convert(c.name, policy)) for c in t.columns)
        _collisions(f"table {t.key}: columns", list(columns), problems)
        pk_name = convert(t.primary_key_name or f"PK_{t.name}", policy) if t.primary_key else None
        name = convert(t.name, policy)
        here = in_schema.setdefault(landing.get(t.key), {})
        shown = f"schema {landing.get(t.key) or '(default)'}"
        _taken(here, name, f"table {t.key}", shown, problems)
        if pk_name and not index_names_per_table:
            _taken(here, pk_name, f"primary key {t.key}.{t.primary_key_name}", shown, problems)
        out[t.key] = Names(name, columns, pk_name)
    for t in tables:
        indexes = tuple((ix.name, convert(ix.name, policy)) for ix in t.indexes)
        _collisions(f"table {t.key}: indexes", list(indexes), problems)
        if not index_names_per_table:  # PostgreSQL: one namespace per schema
            here = in_schema[landing.get(t.key)]
            indexes = tuple((src, _free(here, dst, out[t.key].table)) for src, dst in indexes)
        out[t.key] = replace(out[t.key], indexes=indexes)
    if limit is not None:
        problems += _too_long(out, limit)
    if problems:
        raise ConfigError(f"--identifiers {policy} cannot name the target (nothing was "
                          "written): " + "; ".join(problems))  # fmt: skip
    return out


def _collisions(where: str, pairs: list[tuple[str, str]], problems: list[str]) -> None:
    seen: dict[str, str] = {}
    for src, dst in pairs:
        if dst in seen and seen[dst] != src:
            problems.append(f"{where} {seen[dst]!r} and {src!r} both become {dst!r}")
        seen.setdefault(dst, src)


def _taken(here: dict[str, str], name: str, what: str, shown: str, problems: list[str]) -> None:
    if name in here:
        problems.append(f"{here[name]} and {what} both become {shown}.{name!r}")
    else:
        here[name] = what


def _too_long(out: Mapping[str, Names], limit: int) -> list[str]:
    """Converted names over the target's identifier limit (snake adds underscores): refused
    here, not cut by the engine or refused halfway through a copy."""
    found = []
    for key, n in out.items():
        names = [n.table, *(d for _, d in n.columns), *(d for _, d in n.indexes)]
        names += [n.primary_key] if n.primary_key else []
        found += [f"{key}: {name!r} is longer than the target's {limit} characters"
                  for name in names if len(name) > limit]  # fmt: skip
    return found


def _free(here: dict[str, str], name: str, table: str) -> str:
    """`name`, or where another relation of the schema holds it, the table's name before it
    (then a number), as the plan names a colliding index on PostgreSQL (`target_indexes`)."""
    candidate, n = name, 1
    while candidate in here:
        n += 1
        candidate = f"{table}_{name}" if n == 2 else f"{table}_{name}_{n}"
    here[candidate] = name
    return candidate


def rename_foreign_key(fk: ForeignKey, names: Mapping[str, Names], policy: str) -> ForeignKey:
    """`fk` between its two tables' target names (its own name converted too); unchanged
    when neither end is renamed."""
    mine, theirs = names.get(fk.table_key), names.get(fk.ref_key)
    if mine is None and theirs is None:
        return fk
    return replace(
        fk,
        table=mine.table if mine else fk.table,
        columns=tuple(mine.column(c) for c in fk.columns) if mine else fk.columns,
        ref_table=theirs.table if theirs else fk.ref_table,
        ref_columns=tuple(theirs.column(c) for c in fk.ref_columns) if theirs else fk.ref_columns,
        constraint=convert(fk.name, policy),
    )
