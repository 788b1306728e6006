"""Which source tables a command works on, across schemas, and where each one lands (ADR 0014).

A table is known by its qualified key (`core.schema.qualified_key`): its bare name in the
source's default schema, `schema.name` elsewhere. Options name tables the same way, as names
or glob patterns (`sales.*`, `*.audit_*`); a bare name means the default schema, so commands
written before schemas were read keep their meaning. Every table of the schemas read is
accounted for: selected, or skipped with the option that left it out. A name or pattern that
matches nothing stops the command (a typo must not copy everything, or nothing, in silence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sluice.copy.refusals import Selection, Skipped
from sluice.core.errors import ConfigError
from sluice.core.schema import Table, qualified_key
from sluice.core.urls import DbUrl


@dataclass(frozen=True)
class Source:
    """One selected source table: `schema` as keys carry it (None: the default schema),
    `actual` as the engine names it (what reflection asks for)."""

    schema: str | None
    actual: str | None
    name: str
    default: str | None = None  # the default schema's actual name

    @property
    def key(self) -> str:
        return qualified_key(self.schema, self.name)


def resolve(inspector: Any, dialect, url: DbUrl, tables: Sequence[str] | None,
            selection: Selection, internal) -> tuple[list[Source], list[Skipped]]:  # fmt: skip
    """The selected tables, in schema then catalog order (the default schema first), and the
    skipped ones with their reasons. `internal(name)` tells sluice's own tables apart."""
    default = dialect.url_schema(url)
    chosen, outside = _schemas(dialect, url, selection, default, inspector.bind)
    check_schema_map(selection, [*chosen, *outside])
    excluded = set(_matching(chosen, selection.exclude_schemas, "--exclude-schemas", url))
    found: list[tuple[str | None, str, str]] = []  # (actual schema, name, full name)
    skipped: list[Skipped] = []
    roots: dict[tuple, str] = {}  # (actual schema, partition) -> its root's key
    for actual in [*chosen, *outside]:
        names = [n for n in inspector.get_table_names(schema=actual) if not internal(n)]
        parts = dialect.partition_roots(inspector.bind, actual)
        roots |= {(actual, n): qualified_key(None if parts[n][0] == default else parts[n][0],
                                             parts[n][1]) for n in names if n in parts}  # fmt: skip
        for name in names:
            key = qualified_key(None if actual == default else actual, name)
            if actual in outside:
                skipped.append(Skipped(key, "its schema is not in --schemas"))
            elif actual in excluded:
                skipped.append(Skipped(key, "excluded by --exclude-schemas"))
            else:
                found.append((actual, name, _full(actual, name)))
    fulls = [f for _, _, f in found]
    wanted = set(fulls)
    if tables:
        wanted = set(_matching(fulls, _bare(tables, default), "--tables", url, "table"))
    dropped = set(_matching(fulls, _bare(selection.exclude, default), "--exclude-tables", url,
                            "table"))  # fmt: skip
    selected = []
    for actual, name, full in found:
        source = Source(None if actual == default else actual, actual, name, default)
        if full not in wanted:
            skipped.append(Skipped(source.key, "not in --tables"))
        elif full in dropped:
            skipped.append(Skipped(source.key, "excluded by --exclude-tables"))
        elif (actual, name) not in roots:
            selected.append(source)
    keys = {s.key for s in selected}
    for (actual, name), root in roots.items():  # a partition's rows are its root's
        key = qualified_key(None if actual == default else actual, name)
        if any(s.table == key for s in skipped):
            continue
        skipped.append(Skipped(key, f"partition of {root}: copied with it" if root in keys
                               else f"partition of {root}, which is not copied"))  # fmt: skip
    return selected, skipped


def landing_schemas(tables: Sequence[Table], selection: Selection, defaults,
                    dst) -> dict[str, str | None]:  # fmt: skip
    """Table key -> its target schema (None: the target's default). Two tables landing on
    one name, or a named schema on a target without schemas, stop the plan by name."""
    landing = {t.key: target_schema(t.schema, selection, *defaults) for t in tables}
    schemaless = sorted({s for s in landing.values() if s is not None})
    if schemaless and not dst.caps.schemas:
        raise ConfigError(
            f"{dst.name} has no schemas to hold schema(s) {', '.join(schemaless)}: "
            f"--schema-map {schemaless[0]}= puts its tables in the default one, "
            "or --exclude-schemas leaves them out"
        )
    seen: dict[tuple, str] = {}
    for t in tables:
        where = (landing[t.key], t.name)
        if where in seen:
            raise ConfigError(
                f"{seen[where]} and {t.key} would both be copied to "
                f"{where[0] or 'the default schema'}.{t.name} (see --schema-map)"
            )
        seen[where] = t.key
    return landing


def target_schema(schema: str | None, selection: Selection, src_default: str | None,
                  dst_default: str | None) -> str | None:  # fmt: skip
    """Where a table of source schema `schema` (None: the default) lands: `--schema-map`'s
    name for it, else the same name; the source's default schema lands in the target's
    default (SQL Server dbo <-> PostgreSQL public <-> the MariaDB URL's database). None is
    the target's default schema; so is a mapped name equal to it, or an empty one."""
    name = src_default if schema is None else schema
    mapped = dict(selection.schema_map)
    if name is None or name not in mapped:
        return schema
    dst = mapped[name]
    return None if dst in ("", dst_default) else dst


def landing_schemas_of(dialect, url: DbUrl, selection: Selection,
                       dst_default: str | None) -> list[str | None]:  # fmt: skip
    """Every target schema the selection can put a table in (None: the target's default):
    each schema read and not excluded, where `--schema-map` sends it, and each map's
    destination; verify looks for tables the source lacks in all of them, even where no
    table of the plan lands (a source schema emptied since the copy)."""
    default = dialect.url_schema(url)
    chosen, _ = _schemas(dialect, url, selection, default)
    excluded = set(_matching(chosen, selection.exclude_schemas, "--exclude-schemas", url))
    out: list[str | None] = [None]
    for schema in chosen:
        if schema not in excluded:
            out.append(target_schema(None if schema == default else schema, selection,
                                     default, dst_default))  # fmt: skip
    out += [None if dst in ("", dst_default) else dst for src, dst in selection.schema_map
            if src not in excluded]  # fmt: skip
    return list(dict.fromkeys(out))


def check_schema_map(selection: Selection, known: Sequence[str | None]) -> None:
    """Every `--schema-map` source name must be a schema of the source (a typo would
    otherwise leave tables where they were, in silence)."""
    unknown = [s for s, _ in selection.schema_map if s not in known]
    if unknown:
        raise ConfigError(
            f"--schema-map names schema(s) not read from the source: {', '.join(unknown)} "
            f"(read: {', '.join(s for s in known if s) or 'the default only'})"
        )


def parse_schema_map(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`src=dst` pairs (each value may hold several, comma separated); an empty `dst` is the
    target's default schema."""
    pairs = []
    for value in values:
        for item in (p.strip() for p in value.split(",")):
            if not item:
                continue
            src, sep, dst = item.partition("=")
            if not sep or not src.strip():
                raise ConfigError(f"--schema-map takes source=target, got {item!r}")
            pairs.append((src.strip(), dst.strip()))
    return tuple(pairs)


def _schemas(dialect, url: DbUrl, selection: Selection, default: str | None, bind=None):
    """(schemas read, schemas whose tables are only listed as outside --schemas). Without
    --schemas: every schema, except where a schema is a database of the server (the URL's
    database alone then: the server's other databases are not this database's tables)."""
    if not dialect.caps.schemas:
        if selection.schemas or selection.exclude_schemas:
            raise ConfigError(f"{dialect.name} has no schemas: --schemas cannot choose any")
        return [default], []
    known = dialect.list_schemas(url, bind)  # through reflection's watched engine
    known = [default, *[s for s in known if s != default]] if default else known
    if selection.schemas:
        chosen = _matching(known, selection.schemas, "--schemas", url, "schema")
        picked = set(chosen)
        outside = [] if dialect.caps.schemas_are_databases else [
            s for s in known if s not in picked]  # fmt: skip
        return chosen, outside
    if dialect.caps.schemas_are_databases:
        return [default], []
    return known, []


def _full(schema: str | None, name: str) -> str:
    return name if schema is None else f"{schema}.{name}"


def _bare(patterns: Sequence[str], default: str | None) -> list[tuple[str, list[str]]]:
    """Each pattern with the full names it may mean: a bare one is in the default schema; a
    dotted one names its schema, or is a default-schema name holding a dot."""
    out = []
    for p in patterns:
        forms = [p] if default is None else [f"{default}.{p}"]
        if "." in p and default is not None:
            forms.insert(0, p)
        out.append((p, forms))
    return out


def _matching(names: Sequence[str], patterns, option: str, url: DbUrl,
              what: str = "schema") -> list[str]:  # fmt: skip
    """The `names` any pattern matches, in their order; a pattern matching none is an error."""
    pairs = [(p, [p]) if isinstance(p, str) else p for p in patterns]
    hits, unmatched = [], []
    for shown, forms in pairs:
        matched = [n for n in names if any(n == f or fnmatchcase(n, f) for f in forms)]
        if not matched:
            unmatched.append(shown)
        hits += matched
    if unmatched:
        listed = ", ".join(str(n) for n in names) or "none"
        raise ConfigError(f"{what}(s) not found in {url}: {', '.join(unmatched)} "
                          f"({option}; found: {listed})")  # fmt: skip
    return [n for n in names if n in set(hits)]
