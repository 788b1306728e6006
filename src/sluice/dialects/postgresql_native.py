"""PostgreSQL's own types on a PostgreSQL target (ADR 0013): each column's exact declaration,
the enums, domains, composites and extensions it depends on, and their creation on the target.

Declarations are read with `format_type` under `search_path = pg_catalog`, so every type
outside pg_catalog comes out schema-qualified (`public.hstore`, `sales.mood[]`): the text is
valid on any database holding the same types, and a "." in it marks a type that is not
built in (binary COPY of such a type may embed ids that differ between databases).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sluice.core.errors import TerminalError
from sluice.core.schema import NativeType, Table
from sluice.core.types import Kind, SqlType

FIRST_USER_OID = 16384  # FirstNormalObjectId: anything below was made by initdb
# kinds read as the server's text: its own types, and those carried as text to another engine
AS_TEXT = (Kind.NATIVE, Kind.TEXT_FORM)


def as_text(column: str, kind: Kind) -> str:
    """A column read as text: its own types as `::text` (read back by a PostgreSQL target),
    a type carried to another engine as its output function's text, what psql shows (a cast
    to text may differ: `'::1'::inet::text` is '::1/128'); NULL stays NULL."""
    if kind is Kind.TEXT_FORM:
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE format('%s', {column}) END"
    return f"{column}::text"


POSTGIS_SQL = ("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
               "ON n.oid = e.extnamespace WHERE e.extname = 'postgis'")  # fmt: skip

# Session settings that pin every type's text form (and how the text is read back): the same
# on both sides of a text COPY and of a comparison by text, whatever the servers' defaults.
TEXT_SETTINGS = (
    "SET DateStyle = ISO, YMD", "SET TimeZone = 'UTC'", "SET IntervalStyle = postgres",
    "SET extra_float_digits = 3", "SET bytea_output = hex", "SET lc_monetary = 'C'",
)  # fmt: skip

_PATH = "SELECT set_config('search_path', 'pg_catalog', true)"

COLUMNS_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typname,
       t.oid >= %(first)s AND tn.nspname = 'pg_catalog'
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
WHERE cn.nspname = %(schema)s AND c.relname = ANY(%(names)s) AND a.attnum > 0
  AND NOT a.attisdropped
"""

TYPE_SQL = """
SELECT t.typname, n.nspname, t.typtype, t.typcategory, t.typelem, t.typbasetype,
       format_type(t.typbasetype, t.typtypmod), t.typnotnull, pg_get_expr(t.typdefaultbin, 0),
       (SELECT relkind FROM pg_class WHERE oid = t.typrelid),
       (SELECT e.extname || '|' || en.nspname FROM pg_depend d
          JOIN pg_extension e ON e.oid = d.refobjid
          JOIN pg_namespace en ON en.oid = e.extnamespace
        WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
          AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'),
       (SELECT string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder)
        FROM pg_enum WHERE enumtypid = t.oid),
       (SELECT string_agg('CONSTRAINT ' || quote_ident(conname) || ' '
                          || pg_get_constraintdef(oid), ' ' ORDER BY conname)
        -- CHECKs only: PostgreSQL 17+ also catalogues a domain's NOT NULL (contype 'n'),
        -- which typnotnull already carries
        FROM pg_constraint WHERE contypid = t.oid AND contype = 'c'),
       (SELECT ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
        FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
        JOIN pg_type b ON b.oid = t.typbasetype
        WHERE co.oid = t.typcollation AND t.typcollation <> b.typcollation)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = %s
"""

ATTRIBUTES_SQL = """
SELECT quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
       || coalesce((SELECT ' COLLATE ' || quote_ident(cn.nspname) || '.'
                           || quote_ident(co.collname)
                    FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                    WHERE co.oid = a.attcollation AND a.attcollation <> b.typcollation), ''),
       a.atttypid
FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid
JOIN pg_type b ON b.oid = a.atttypid
WHERE t.oid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""


def native_columns(bind: Any, schema: str | None, names: Sequence[str]) -> dict:
    """{(table, column): (declaration, type name)} for every column of `names`, one query."""
    if not names:
        return {}
    with bind.connect() as conn:
        conn.exec_driver_sql(_PATH)
        args = {"first": FIRST_USER_OID, "schema": schema or "public", "names": list(names)}
        rows = conn.exec_driver_sql(COLUMNS_SQL, args).fetchall()
        conn.rollback()
    found = {}
    for table, column, declared, typname, catalog_user_type in rows:
        if catalog_user_type:  # an extension installed into pg_catalog: still not built in
            declared = f"pg_catalog.{declared}"
        found[(table, column)] = (declared, typname)
    return found


DECLARED_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod),
       t.oid >= %(first)s AND tn.nspname = 'pg_catalog'
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
WHERE a.attrelid = %(rel)s AND a.attnum > 0 AND NOT a.attisdropped
"""


def declared_types(conn: Any, relation: str) -> dict[str, str] | None:
    """{column: declaration} of one table (`relation`, quoted as the dialect qualifies it) on a
    psycopg connection, spelled as `native_columns` spells it: verification compares both
    catalogs' spellings. None when the table does not exist."""
    rel = conn.execute("SELECT to_regclass(%s)::oid", (relation,)).fetchone()[0]
    if rel is None:
        conn.rollback()
        return None
    conn.execute(_PATH)  # after resolving the name: set_config(..., true) lasts the transaction
    found = {}
    for column, declared, catalog_user_type in conn.execute(
        DECLARED_SQL, {"first": FIRST_USER_OID, "rel": rel}
    ).fetchall():
        found[column] = f"pg_catalog.{declared}" if catalog_user_type else declared
    conn.rollback()
    return found


def with_native(engine: str, t: SqlType | None, info: Any) -> SqlType | None:
    """Attach the declaration; types with no neutral kind (arrays, ranges, inet, money,
    interval, varbit, ...) become Kind.NATIVE. timetz keeps its own kind (Kind.TIME_TZ): a
    PostgreSQL target renders the declaration verbatim, another stores it lossily."""
    if info is None:
        return t
    declared, typname = info
    if typname == "xml":
        t = SqlType(Kind.XML)
    elif t is None:
        t = SqlType(Kind.NATIVE)
    return replace(t, native=declared, engine=engine)


def built_in(t: SqlType) -> bool:
    """Whether a declaration names only built-in types (see the module's docstring)."""
    return t.native is None or "." not in t.native


def user_collations(tables: Sequence[Table]) -> dict[str, list[str]]:
    """The collations outside pg_catalog the tables' columns name (a PostgreSQL source's
    `Column.collation`, schema-qualified) -> the columns ("table.column") using each."""
    used: dict[str, list[str]] = {}
    for table in tables:
        for c in table.columns:
            if c.collation and "." in c.collation and not c.collation.startswith("pg_catalog."):
                used.setdefault(c.collation, []).append(f"{table.name}.{c.name}")
    return used


COLLATION_SQL = """
SELECT n.nspname, co.collname, co.collprovider, co.collisdeterministic, co.collcollate,
       co.collctype, coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale'),
       to_jsonb(co) ->> 'collicurules'
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE co.oid = %s::regcollation
"""


def collation_ddl(row: tuple) -> str:
    """CREATE COLLATION IF NOT EXISTS from a pg_collation row (COLLATION_SQL): ICU ones by
    their locale (and rules), libc ones by lc_collate and lc_ctype; determinism kept."""
    schema, name, provider, deterministic, collate, ctype, locale, rules = row
    if provider == "i":
        options = [f"provider = icu, locale = {quote_literal(locale or '')}"]
        options += [f"rules = {quote_literal(rules)}"] if rules else []
    else:
        options = [f"provider = libc, lc_collate = {quote_literal(collate or '')}, "
                   f"lc_ctype = {quote_literal(ctype or '')}"]  # fmt: skip
    options.append(f"deterministic = {'true' if deterministic else 'false'}")
    return f"CREATE COLLATION IF NOT EXISTS {_qualified(schema, name)} ({', '.join(options)})"


def collation_types(conn: Any, tables: Sequence[Table], engine: str) -> list[NativeType]:
    """The user-defined collations the columns use, each as a NativeType of kind
    "collation" whose ddl makes it on a PostgreSQL target (if missing)."""
    found = []
    for collation, columns in user_collations(tables).items():
        row = conn.execute(COLLATION_SQL, (collation,)).fetchone()
        if row is not None:
            found.append(NativeType(engine, "collation", row[0], row[1], collation_ddl(row),
                                    ", ".join(columns)))  # fmt: skip
    return found


def native_types(conn: Any, tables: Sequence[Table], engine: str) -> tuple[NativeType, ...]:
    """The collations and non-built-in types the tables' columns use, dependencies first."""
    used: dict[str, list[str]] = {}
    for table in tables:
        for c in table.columns:
            if not built_in(c.type):
                used.setdefault(c.type.native, []).append(f"{table.name}.{c.name}")
    if not used and not user_collations(tables):
        return ()
    conn.execute(_PATH)
    collations = collation_types(conn, tables, engine)  # before the domains that use them
    walk = _Walk(conn, engine)
    for declared, columns in used.items():
        oid = conn.execute("SELECT to_regtype(%s)::oid", (declared,)).fetchone()[0]
        walk.visit(oid, ", ".join(columns))
    conn.rollback()
    return (*collations, *walk.found.values())


class _Walk:
    """Depth first through arrays, domains and composites, so a type comes after those it
    is made of; extensions stand for all of their types."""

    def __init__(self, conn: Any, engine: str):
        self.conn, self.engine = conn, engine
        self.found: dict[str, NativeType] = {}
        self.seen: set[int] = set()

    def add(self, key: str, nt: NativeType, used_by: str) -> None:
        if key in self.found:  # keeps its place: it already follows what it is made of
            old = self.found[key]
            users = [u for u in (old.used_by + ", " + used_by).split(", ") if u]
            nt = replace(old, used_by=", ".join(dict.fromkeys(users)))
        self.found[key] = nt

    def visit(self, oid: int, used_by: str) -> None:
        if oid is None or oid < FIRST_USER_OID:
            return
        row = self.conn.execute(TYPE_SQL, (oid,)).fetchone()
        name, schema, typtype, category, elem, base, _, _, _, relkind, ext, *_ = row
        if ext:
            ext_name, ext_schema = ext.split("|", 1)
            nt = NativeType(self.engine, "extension", ext_schema, ext_name, "", used_by)
            self.add(f"extension {ext_name}", nt, used_by)
            return
        if category == "A" and elem:
            self.visit(elem, used_by)
            return
        first = oid not in self.seen
        self.seen.add(oid)
        if first and typtype == "d":
            self.visit(base, used_by)
        if first and typtype == "c" and relkind == "c":
            for _, attr in self.conn.execute(ATTRIBUTES_SQL, (oid,)).fetchall():
                self.visit(attr, used_by)
        kind = {"e": "enum", "d": "domain"}.get(typtype, "other")
        if typtype == "c" and relkind == "c":
            kind = "composite"
        ddl = type_ddl(self.conn, oid, row) if kind != "other" else ""
        self.add(f"{schema}.{name}", NativeType(self.engine, kind, schema, name, ddl, used_by),
                 used_by)  # fmt: skip


def _qualified(schema: str, name: str) -> str:
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """PostgreSQL's quote_literal: what type_ddl reads back for an enum's label."""
    quoted = "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
    return "E" + quoted if "\\" in text else quoted


def enum_type(engine: str, schema: str, table: str, column: str, members: Sequence[str]):
    """(column type, NativeType) of an enum for a MariaDB ENUM column (`--enums type`): named
    `<table>_<column>_enum` (over 63 bytes: cut, with a hash of the whole name), labels ''
    first (MariaDB's error value for an invalid ENUM, so every value the column holds has a
    label), then the members in order; None when a label is over PostgreSQL's 63 bytes."""
    import hashlib

    labels = list(dict.fromkeys(["", *members]))
    if any(len(m.encode()) > 63 for m in labels):
        return None
    name = f"{table}_{column}_enum"
    if len(name.encode()) > 63:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = name.encode()[:54].decode(errors="ignore") + "_" + digest
    target = _qualified(schema, name)
    ddl = f"CREATE TYPE {target} AS ENUM ({', '.join(map(quote_literal, labels))})"
    longest = max(len(m) for m in labels) or 1
    column_type = SqlType(Kind.STRING, length=longest, native=target, engine=engine)
    return column_type, NativeType(engine, "enum", schema, name, ddl, f"{table}.{column}")


def type_ddl(conn: Any, oid: int, row: tuple | None = None) -> str:
    """CREATE TYPE / CREATE DOMAIN for an enum, domain or composite, read from the catalog
    (the same text on two databases means the same type)."""
    row = row or conn.execute(TYPE_SQL, (oid,)).fetchone()
    name, schema, typtype, _, _, _, base, notnull, default, relkind, _, labels, checks, coll = row
    target = _qualified(schema, name)
    if typtype == "e":
        return f"CREATE TYPE {target} AS ENUM ({labels or ''})"
    if typtype == "d":
        ddl = f"CREATE DOMAIN {target} AS {base}{coll or ''}"
        if default is not None:
            ddl += f" DEFAULT {default}"
        if notnull:
            ddl += " NOT NULL"
        return ddl + (f" {checks}" if checks else "")
    if typtype == "c" and relkind == "c":
        attrs = [a for a, _ in conn.execute(ATTRIBUTES_SQL, (oid,)).fetchall()]
        return f"CREATE TYPE {target} AS ({', '.join(attrs)})"
    return ""


def create_native_types(quote, conn: Any, types: Sequence[NativeType]) -> None:
    """Create on the target what `native_types` found on the source, before the tables:
    extensions from pg_available_extensions, enums, domains and composites in the source's
    schema. A same-named type that differs, or an extension the target lacks, is refused."""
    if not types:
        return
    conn.execute(_PATH)
    for nt in types:
        if nt.kind == "extension":
            _extension(quote, conn, nt)
            continue
        if nt.kind == "collation":  # made if missing (its DDL says IF NOT EXISTS)
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(nt.schema)}")
            conn.execute(nt.ddl)
            continue
        oid = conn.execute("SELECT to_regtype(%s)::oid", (_qualified(nt.schema, nt.name),))
        oid = oid.fetchone()[0]
        label = f"type {nt.schema}.{nt.name} (used by {nt.used_by})"
        if oid is None and nt.kind == "other":
            raise TerminalError(f"{label}: a range or base type sluice cannot create; create it "
                                "on the target first")  # fmt: skip
        if oid is None:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(nt.schema)}")
            conn.execute(nt.ddl)
        elif nt.kind != "other" and (mine := type_ddl(conn, oid)) != nt.ddl:
            raise TerminalError(f"{label} exists on the target and differs from the source's: "
                                f"source {nt.ddl!r}, target {mine!r}")  # fmt: skip
    conn.commit()


def _extension(quote, conn: Any, nt: NativeType) -> None:
    found = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = %s", (nt.name,),
    ).fetchone()  # fmt: skip
    label = f"PostgreSQL extension {nt.name!r} (its types are used by {nt.used_by})"
    if found is not None:
        if found[0] != nt.schema:
            raise TerminalError(f"{label} is installed in schema {found[0]!r} on the target, "
                                f"in {nt.schema!r} on the source")  # fmt: skip
        return
    available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s",
                             (nt.name,)).fetchone()  # fmt: skip
    if available is None:
        raise TerminalError(f"the target lacks the {label}: it is not in "
                            "pg_available_extensions there; install it on the target server, "
                            "or leave those tables out")  # fmt: skip
    try:
        conn.execute("SAVEPOINT sluice_extension")
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(nt.schema)}")
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {quote(nt.name)} SCHEMA {quote(nt.schema)}")
    except Exception as exc:
        conn.execute("ROLLBACK TO SAVEPOINT sluice_extension")
        why = " ".join(str(exc).split())
        raise TerminalError(f"cannot create the {label} on the target: {why}") from None
