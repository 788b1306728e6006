"""SQL Server's views and sequences (issue 24). A SQL Server sequence never belongs to a
column (identities are no sequences), so every one is standalone. OBJECT_DEFINITION gives
a view's whole CREATE VIEW statement as written; it is made again as CREATE OR ALTER.
Only compiled here (tests/unit), never run against a live server."""

from __future__ import annotations

import re

from sluice.core.objects import SequenceDef
from sluice.dialects.mssql_not_carried import MssqlNotCarried

VIEWS = (
    "SELECT s.name, v.name, OBJECT_DEFINITION(v.object_id) FROM sys.views AS v "
    "JOIN sys.schemas AS s ON s.schema_id = v.schema_id WHERE v.is_ms_shipped = 0 "
    "ORDER BY s.name, v.name"
)
VIEW_REFERENCES = (
    "SELECT DISTINCT s.name, v.name, COALESCE(d.referenced_schema_name, s.name), "
    "d.referenced_entity_name FROM sys.sql_expression_dependencies AS d "
    "JOIN sys.views AS v ON v.object_id = d.referencing_id "
    "JOIN sys.schemas AS s ON s.schema_id = v.schema_id "
    "WHERE d.referenced_entity_name IS NOT NULL AND d.referenced_database_name IS NULL"
)
SEQUENCES = (
    "SELECT s.name, q.name, TYPE_NAME(q.user_type_id), CAST(q.start_value AS bigint), "
    "CAST(q.increment AS bigint), CAST(q.minimum_value AS bigint), "
    "CAST(q.maximum_value AS bigint), q.is_cycling, CAST(q.current_value AS bigint), "
    "CASE WHEN q.last_used_value IS NULL THEN 0 ELSE 1 END "
    "FROM sys.sequences AS q JOIN sys.schemas AS s ON s.schema_id = q.schema_id "
    "ORDER BY s.name, q.name"
)
_CREATE_VIEW = re.compile(r"^\s*CREATE\s+VIEW\b", re.IGNORECASE)


class MssqlObjects(MssqlNotCarried):
    """Mixed into the SQL Server dialect (before `Dialect`: it uses its quoting); with what
    a copy does not create (mssql_not_carried)."""

    views_query = VIEWS
    view_references_query = VIEW_REFERENCES
    sequences_query = SEQUENCES

    def view_ddl(self, view, schema: str | None = None) -> str:
        return view.definition  # the statement as it was written

    def create_view_sql(self, view, schema: str | None) -> list[str]:
        return [_CREATE_VIEW.sub("CREATE OR ALTER VIEW", view.definition, count=1)]

    def create_sequence_sql(self, seq: SequenceDef, schema: str | None) -> list[str]:
        name = self.qualified(seq.name, schema)
        literal = name.replace("'", "''")
        cycle = "CYCLE" if seq.cycle else "NO CYCLE"
        return [
            f"IF OBJECT_ID(N'{literal}', N'SO') IS NULL CREATE SEQUENCE {name} AS "
            f"{seq.data_type} START WITH {seq.start} INCREMENT BY {seq.increment} "
            f"MINVALUE {seq.minimum} MAXVALUE {seq.maximum} {cycle}",
            f"ALTER SEQUENCE {name} RESTART WITH {seq.next_value}",
        ]
