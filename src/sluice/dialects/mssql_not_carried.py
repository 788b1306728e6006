"""SQL Server's objects a copy does not create (issue 26): DML triggers on tables and views,
database DDL triggers, synonyms, row-level security policies, stored procedures and
functions (scalar, inline and table-valued: their statements as written, from
sys.sql_modules), and the GRANT/DENY permissions on tables, views and schemas, composed from
sys.database_permissions. Compiled here (tests/unit), never run against a live server."""

from __future__ import annotations

TRIGGERS = (
    "SELECT 'trigger', OBJECT_SCHEMA_NAME(t.parent_id), OBJECT_NAME(t.parent_id), t.name, "
    "m.definition FROM sys.triggers AS t JOIN sys.sql_modules AS m ON m.object_id = t.object_id "
    "WHERE t.is_ms_shipped = 0 AND t.parent_class = 1 ORDER BY 2, 3, 4"
)
DATABASE_TRIGGERS = (
    "SELECT 'database trigger', NULL, NULL, t.name, m.definition FROM sys.triggers AS t "
    "JOIN sys.sql_modules AS m ON m.object_id = t.object_id "
    "WHERE t.is_ms_shipped = 0 AND t.parent_class = 0 ORDER BY 4"
)
ROUTINES = (
    "SELECT CASE o.type WHEN 'P' THEN 'procedure' ELSE 'function' END, s.name, NULL, o.name, "
    "m.definition FROM sys.objects AS o JOIN sys.schemas AS s ON s.schema_id = o.schema_id "
    "JOIN sys.sql_modules AS m ON m.object_id = o.object_id "
    "WHERE o.type IN ('P', 'FN', 'IF', 'TF') AND o.is_ms_shipped = 0 ORDER BY 2, 4"
)
SYNONYMS = (
    "SELECT 'synonym', SCHEMA_NAME(y.schema_id), NULL, y.name, 'CREATE SYNONYM ' "
    "+ QUOTENAME(SCHEMA_NAME(y.schema_id)) + '.' + QUOTENAME(y.name) + ' FOR ' "
    "+ y.base_object_name FROM sys.synonyms AS y ORDER BY 2, 4"
)
# row-level security: one CREATE SECURITY POLICY per policy with each predicate (2017+)
_PREDICATE = (
    "CAST('ADD ' + pr.predicate_type_desc + ' PREDICATE ' + pr.predicate_definition + ' ON ' "
    "+ QUOTENAME(OBJECT_SCHEMA_NAME(pr.target_object_id)) + '.' "
    "+ QUOTENAME(OBJECT_NAME(pr.target_object_id)) + COALESCE(' ' + pr.operation_desc, '') "
    "AS nvarchar(max))"
)
POLICIES = (
    "SELECT 'policy', SCHEMA_NAME(p.schema_id), NULL, p.name, 'CREATE SECURITY POLICY ' "
    "+ QUOTENAME(SCHEMA_NAME(p.schema_id)) + '.' + QUOTENAME(p.name) + ' ' "
    f"+ STRING_AGG({_PREDICATE}, ', ') + ' WITH (STATE = ' "
    "+ CASE WHEN p.is_enabled = 1 THEN 'ON' ELSE 'OFF' END + ')' "
    "FROM sys.security_policies AS p JOIN sys.security_predicates AS pr "
    "ON pr.object_id = p.object_id GROUP BY p.schema_id, p.name, p.is_enabled ORDER BY 2, 4"
)
# state_desc: GRANT, DENY, GRANT_WITH_GRANT_OPTION; a permission on a column names it
_VERB = "CASE p.state WHEN 'D' THEN 'DENY' ELSE 'GRANT' END"
_WITH = "CASE p.state WHEN 'W' THEN ' WITH GRANT OPTION' ELSE '' END"
OBJECT_GRANTS = (
    "SELECT 'grant', s.name, o.name, g.name, "
    f"{_VERB} + ' ' + p.permission_name + ' ON ' + QUOTENAME(s.name) + '.' + QUOTENAME(o.name) "
    "+ CASE WHEN p.minor_id = 0 THEN '' ELSE ' (' + QUOTENAME(c.name) + ')' END "
    f"+ ' TO ' + QUOTENAME(g.name) + {_WITH} "
    "FROM sys.database_permissions AS p "
    "JOIN sys.objects AS o ON o.object_id = p.major_id "
    "JOIN sys.schemas AS s ON s.schema_id = o.schema_id "
    "JOIN sys.database_principals AS g ON g.principal_id = p.grantee_principal_id "
    "LEFT JOIN sys.columns AS c ON c.object_id = p.major_id AND c.column_id = p.minor_id "
    "WHERE p.class = 1 AND o.type IN ('U', 'V') AND o.is_ms_shipped = 0 ORDER BY 2, 3, 4"
)
SCHEMA_GRANTS = (
    "SELECT 'grant', s.name, NULL, g.name, "
    f"{_VERB} + ' ' + p.permission_name + ' ON SCHEMA::' + QUOTENAME(s.name) + ' TO ' "
    f"+ QUOTENAME(g.name) + {_WITH} FROM sys.database_permissions AS p "
    "JOIN sys.schemas AS s ON s.schema_id = p.major_id "
    "JOIN sys.database_principals AS g ON g.principal_id = p.grantee_principal_id "
    "WHERE p.class = 3 ORDER BY 2, 4"
)


class MssqlNotCarried:
    """Mixed into the SQL Server dialect (through `MssqlObjects`)."""

    not_carried_queries = (
        ("procedures and functions", ROUTINES),
        ("triggers", TRIGGERS),
        ("database triggers", DATABASE_TRIGGERS),
        ("synonyms", SYNONYMS),
        ("security policies", POLICIES),
        ("object permissions", OBJECT_GRANTS),
        ("schema permissions", SCHEMA_GRANTS),
    )
