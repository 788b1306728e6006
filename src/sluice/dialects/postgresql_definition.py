"""PostgreSQL's side of a table's whole definition (issue 26, ADR 0020): identities of each
kind (ALWAYS, BY DEFAULT, serial), defaults read into neutral kinds, collations by their
schema-qualified names, comments, deferrable foreign keys.

A serial is an integer column whose default is nextval() of a sequence the column owns
(pg_depend 'a', what `serial` and `OWNED BY` make): it is made again with the `serial`
pseudo-type, so the replica owns its own sequence, renamed after the swap to the source's
sequence name, and aligned with setval. pg_dump of the replica then shows the source's
CREATE SEQUENCE, OWNED BY and nextval default."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sluice.core.definition import BY_DEFAULT, LITERAL, NOW, SEQUENCE, SERIAL, Check, Default
from sluice.core.schema import Column, Table
from sluice.core.types import Kind

_SERIAL = {Kind.SMALLINT: "smallserial", Kind.INTEGER: "serial", Kind.BIGINT: "bigserial"}

# Per column of the tables read: the sequence it owns by a serial or OWNED BY (deptype 'a'),
# its collation where not its type's (schema-qualified, quoted as needed), and that
# collation's determinism and locale (a nondeterministic ICU collation at strength 1 or 2
# compares case-insensitively), and the user functions its default calls (functions are not
# copied: such a default is not carried).
FACTS_SQL = """
SELECT c.relname, a.attname,
       (SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname)
        FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
        JOIN pg_namespace sn ON sn.oid = s.relnamespace
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'a'
          AND s.relkind = 'S' LIMIT 1),
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN quote_ident(con.nspname) || '.' || quote_ident(co.collname) END,
       co.collisdeterministic,
       coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale',
                co.collcollate),
       (SELECT string_agg(DISTINCT d.refobjid::regprocedure::text, ', ')
        FROM pg_attrdef ad JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass
          AND d.objid = ad.oid AND d.refclassid = 'pg_proc'::regclass AND d.refobjid >= 16384
        WHERE ad.adrelid = c.oid AND ad.adnum = a.attnum)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace con ON con.oid = co.collnamespace
WHERE cn.nspname = %(schema)s AND c.relname = ANY(%(names)s) AND a.attnum > 0
  AND NOT a.attisdropped
"""

# the user functions each CHECK constraint of the tables calls
CHECK_FACTS_SQL = """
SELECT c.relname, co.conname, string_agg(DISTINCT d.refobjid::regprocedure::text, ', ')
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = co.oid
  AND d.refclassid = 'pg_proc'::regclass AND d.refobjid >= 16384
WHERE co.contype = 'c' AND cn.nspname = %(schema)s AND c.relname = ANY(%(names)s)
GROUP BY 1, 2
"""

_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')+)'(?:::regclass)?\)")
_NOW = {"now()": "timestamp", "CURRENT_TIMESTAMP": "timestamp", "LOCALTIMESTAMP": "timestamp",
        "transaction_timestamp()": "timestamp", "statement_timestamp()": "timestamp",
        "clock_timestamp()": "timestamp", "CURRENT_DATE": "date", "CURRENT_TIME": "time",
        "LOCALTIME": "time"}  # fmt: skip
_STRING = re.compile(r"'((?:[^']|'')*)'::[a-z][a-z0-9_ ]*(?:\(\d+(?:,\s*\d+)?\))?")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
# a collation as PostgreSQL names one: schema-qualified, each part quoted where it must be
_PART = r'(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)'
_COLLATION = re.compile(rf"{_PART}\.{_PART}")


def case_insensitive(deterministic: bool | None, locale: str | None) -> bool | None:
    """Whether a collation compares case-insensitively: a deterministic one never does; a
    nondeterministic ICU one at strength 1 or 2 (`ks-level1`, `ks-level2`) does."""
    if deterministic is None:
        return None
    if deterministic:
        return False
    return bool(locale and re.search(r"ks-level[12]", locale))


def bare_name(qualified: str) -> str:
    """The last part of a possibly schema-qualified, possibly quoted name, unquoted."""
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', qualified)
    quoted, plain = parts[-1] if parts else ("", qualified)
    return quoted.replace('""', '"') if quoted else plain


ICU_PROBE = "CREATE COLLATION pg_temp.sluice_icu_probe (provider = icu, locale = 'und')"


STAGED_NOT_NULL = """
WITH r AS (SELECT %s::regclass AS oid)
SELECT n.nspname, c.relname, k.conname
FROM (SELECT oid AS relid FROM r UNION SELECT t.relid FROM r, pg_partition_tree(r.oid) t) t
JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_constraint k ON k.conrelid = c.oid
WHERE k.contype::text = 'n' AND k.coninhcount = 0 AND starts_with(k.conname, %s)
"""


class PostgresDefinitions:
    """Mixed into the PostgreSQL dialect before `Dialect` (it overrides `Dialect`'s column
    DDL and identity statements, and `Definitions`' readers and renderers)."""

    name: str
    deferrable_keys = True

    # --- reading -----------------------------------------------------------------------------
    def column_facts(self, bind: Any, schema: str | None, tables: Sequence[str]) -> dict:
        if not tables:
            return {}
        with bind.connect() as conn:
            args = {"schema": schema or "public", "names": list(tables)}
            rows = conn.exec_driver_sql(FACTS_SQL, args).fetchall()
            checks = conn.exec_driver_sql(CHECK_FACTS_SQL, args).fetchall()
            conn.rollback()
        found: dict = {("check", t, name): needs for t, name, needs in checks}
        found.update({(t, c): (owned, coll, case_insensitive(det, loc) if coll else None, needs)
                      for t, c, owned, coll, det, loc, needs in rows})  # fmt: skip
        return found

    def read_column(self, column: Column, info: dict[str, Any], facts: Any = None) -> Column:
        column = super().read_column(column, info, facts)
        if facts is None:
            return column
        owned, collation, insensitive, needs = facts
        column = replace(column, collation=collation, case_insensitive=insensitive)
        d = column.default
        if d is not None and needs:
            column = replace(column, default=replace(d, needs=needs))
        if owned and d is not None and d.kind == SEQUENCE and column.type.kind in _SERIAL:
            column = replace(column, identity=True, identity_kind=SERIAL)
        return column

    def read_default(self, text: str | None, column: Column) -> Default | None:
        """nextval('s'::regclass) is a SEQUENCE (value: the sequence as written), now() and
        the CURRENT_* words NOW, a constant ('x'::text, 42, true) a LITERAL (value unquoted),
        anything else this engine's EXPRESSION; `text` is kept as is for PostgreSQL."""
        if text is None:
            return None
        t = text.strip()
        if m := _NEXTVAL.fullmatch(t):
            return Default(SEQUENCE, m.group(1).replace("''", "'"), self.name, text)
        if t in _NOW:
            return Default(NOW, _NOW[t], self.name, text)
        if (m := _STRING.fullmatch(t)) and "[]" not in t:
            return Default(LITERAL, m.group(1).replace("''", "'"), self.name, text)
        if _NUMBER.fullmatch(t) or t in ("true", "false"):
            return Default(LITERAL, t, self.name, text)
        return super().read_default(text, column)

    def read_check(self, info: dict[str, Any], facts: Any = None) -> Check | None:
        check = super().read_check(info, facts)
        return replace(check, needs=facts) if check is not None and facts else check

    # --- writing -----------------------------------------------------------------------------
    def icu_ready(self, url: Any) -> bool:
        """Whether the server was built with ICU: a temporary ICU collation is made and rolled
        back (pg_collation lists ICU rows even without it on PostgreSQL 17+, and
        icu_unicode_version() is 16+). Asked of the server's maintenance database (the target
        database may not exist yet); a server that cannot be asked is taken as able (the
        copy's own connection then says why it cannot be reached)."""
        try:
            conn = self.connect(url.without_database())  # type: ignore[attr-defined]
        except Exception:
            return True
        try:
            conn.execute(ICU_PROBE)
            return True
        except Exception as exc:
            return "ICU is not supported" not in str(exc)
        finally:
            conn.rollback()
            conn.close()

    def comment_refused(self, text: str, column: bool) -> str:
        return ""  # COMMENT ON takes any text

    def identity_clause(self, kind: str = "") -> str:
        if kind == SERIAL:
            return ""  # the serial pseudo-type: `column_ddl`
        if kind == BY_DEFAULT:  # explicit ids stay insertable, as on the source
            return "GENERATED BY DEFAULT AS IDENTITY"
        return "GENERATED ALWAYS AS IDENTITY"

    def column_ddl(self, table: Table, column_name: str) -> str:
        col = table.column(column_name)
        if col.identity and col.identity_kind == SERIAL and col.type.kind in _SERIAL:
            return f"{self.quote(col.name)} {_SERIAL[col.type.kind]} NOT NULL"
        return super().column_ddl(table, column_name)

    def collation_clause(self, column: Column) -> str | None:
        """A collation PostgreSQL names (schema-qualified, from a PostgreSQL source) by its
        name: it exists on the target (pg_catalog's) or is made first (a user's, through
        `native_types`). Another engine's collation name: not carried here."""
        if not column.collation:
            return ""
        return f"COLLATE {column.collation}" if _COLLATION.fullmatch(column.collation) else None

    def definition_sql(self, table: Table, live: Table) -> list[str]:
        """COMMENT ON TABLE / COLUMN (they stay with the staging table through its rename)."""
        out = []
        if table.comment:
            out.append(f"COMMENT ON TABLE {self.qualified(table)} IS {_literal(table.comment)}")
        for c in table.columns:
            if c.comment:
                out.append(f"COMMENT ON COLUMN {self.qualified(table)}.{self.quote(c.name)} "
                           f"IS {_literal(c.comment)}")  # fmt: skip
        return out

    # --- identities --------------------------------------------------------------------------
    def align_identity_sql(self, table: Table, next_value: int) -> list[str]:
        col = table.identity
        if col is None:
            return []
        if col.identity_kind == SERIAL:  # the sequence it owns
            rel, name = _literal(self.qualified(table)), _literal(col.name)
            return [f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({rel}, "
                    f"{name}), {int(next_value)}, false)"]  # fmt: skip
        return [
            f"ALTER TABLE {self.qualified(table)} ALTER COLUMN {self.quote(col.name)} "
            f"RESTART WITH {int(next_value)}"
        ]

    def rename_staged_constraints_sql(self, conn: Any, table: Table, staged: str) -> list[str]:
        # NOT NULL constraints are catalogued, and named, from PostgreSQL 18 on (contype 'n'):
        # (inherited ones, in partitions, follow their parent's rename)
        # `_sluice_stage_T_c_not_null` -> `T_c_not_null`, as `T` made them; none before 18
        rows = conn.execute(STAGED_NOT_NULL, (self.qualified(table), staged)).fetchall()
        return [f"ALTER TABLE {self.qualified(rel, schema)} RENAME CONSTRAINT "
                f"{self.quote(name)} TO {self.quote(table.name + name[len(staged):])}"
                for schema, rel, name in rows]  # fmt: skip

    def rename_identity_sql(self, conn: Any, table: Table) -> list[str]:
        """The identity's or serial's sequence was named after the staging table
        (`_sluice_stage_T_Id_seq`): give it the source's name for a serial, else the name
        PostgreSQL would have chosen for `T` (`T_Id_seq`, cut to fit), unless another
        relation holds that name. Asked inside the swap's transaction: no rollback."""
        col = table.identity
        if col is None:
            return []
        found = conn.execute(
            "SELECT pg_get_serial_sequence(%s, %s)", (self.qualified(table), col.name)
        ).fetchone()
        current = found[0] if found else None
        if current is None:
            return []
        d = col.default
        if col.identity_kind == SERIAL and d is not None and d.kind == SEQUENCE:
            name = bare_name(d.value)  # the source's own sequence name
        else:
            base, suffix = table.name, f"_{col.name}_seq"
            limit = 63  # PostgreSQL's identifier length
            while base and len((base + suffix).encode()) > limit:
                base = base[:-1]
            name = base + suffix if base else ""
        if not name:
            return []
        wanted = self.qualified(name, table.schema)
        taken = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (wanted,)).fetchone()[0]
        if taken:
            return []  # already named so (or the name is another relation's): leave it
        return [f"ALTER SEQUENCE {current} RENAME TO {self.quote(name)}"]


def _literal(text: str) -> str:
    """A standard-conforming string literal."""
    return "'" + text.replace("'", "''") + "'"
