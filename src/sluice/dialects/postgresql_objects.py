"""PostgreSQL's views and standalone sequences (issue 24): the catalog queries and the
statements that make them on another PostgreSQL database. A sequence an identity or a
serial column owns (pg_depend deptype 'i' or 'a' on its table) is the table's: finish aligns
it; the others are listed here with their options, and their value is read from the
sequence relation itself (last_value, is_called)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sluice.core.objects import SequenceDef
from sluice.dialects.postgresql_not_carried import PostgresNotCarried

_USER = ("n.nspname NOT IN ('pg_catalog', 'information_schema') "
         "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'")  # fmt: skip

# pg_get_viewdef prints names the reading session's search_path would not find qualified
VIEWS = (
    "SELECT n.nspname, c.relname, pg_catalog.pg_get_viewdef(c.oid, true) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE c.relkind = 'v' AND {_USER} "
    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid "
    "AND d.deptype = 'e') ORDER BY 1, 2"  # an extension's own views are the extension's
)
# the relations each view's rewrite rule reads (itself left out)
VIEW_REFERENCES = (
    "SELECT DISTINCT n.nspname, v.relname, rn.nspname, r.relname "
    "FROM pg_catalog.pg_rewrite w "
    "JOIN pg_catalog.pg_class v ON v.oid = w.ev_class "
    "JOIN pg_catalog.pg_namespace n ON n.oid = v.relnamespace "
    "JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass "
    "AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass "
    "JOIN pg_catalog.pg_class r ON r.oid = d.refobjid "
    "JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace "
    f"WHERE v.relkind = 'v' AND r.oid <> v.oid AND {_USER} ORDER BY 1, 2, 3, 4"
)
# sequences no column owns: identity ('i') and serial/OWNED BY ('a') ones left out
SEQUENCES = (
    "SELECT n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, "
    "s.seqincrement, s.seqmin, s.seqmax, s.seqcycle, NULL, false "
    "FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE {_USER} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
    "WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid "
    "AND d.deptype IN ('a', 'i', 'e')) ORDER BY 1, 2"
)


class PostgresObjects(PostgresNotCarried):
    """Mixed into the PostgreSQL dialect (before `Dialect`: it uses its `qualified`); with
    what a copy does not create (postgresql_not_carried)."""

    views_query = VIEWS
    view_references_query = VIEW_REFERENCES
    sequences_query = SEQUENCES

    def sequence_state(self, conn: Any, seq: SequenceDef) -> SequenceDef:
        cur = conn.cursor()
        cur.execute(f"SELECT last_value, is_called FROM {self.qualified(seq.name, seq.schema)}")
        last, called = cur.fetchone()
        return replace(seq, last_value=int(last), is_called=bool(called))

    def create_sequence_sql(self, seq: SequenceDef, schema: str | None) -> list[str]:
        """Made if absent, then given the source's options and value: a rerun converges."""
        name = self.qualified(seq.name, schema)
        cycle = "CYCLE" if seq.cycle else "NO CYCLE"
        options = (f"AS {seq.data_type} INCREMENT BY {seq.increment} MINVALUE {seq.minimum} "
                   f"MAXVALUE {seq.maximum} START WITH {seq.start} {cycle}")  # fmt: skip
        value = seq.start if seq.last_value is None else seq.last_value
        literal = name.replace("'", "''")
        return [
            f"CREATE SEQUENCE IF NOT EXISTS {name} {options}",
            f"ALTER SEQUENCE {name} {options}",
            f"SELECT pg_catalog.setval('{literal}', {value}, {str(seq.is_called).lower()})",
        ]
