"""PostgreSQL's objects a copy does not create (issue 26), as catalog queries whose rows are
(kind, schema, table, name, ddl), the DDL printed by the server where it can
(pg_get_triggerdef, pg_get_functiondef, pg_get_ruledef) and composed from the catalog
where it has no printer (policies, row-level security, grants, event triggers, materialized
views: made WITH NO DATA, to be refreshed).

Extensions are listed (the copy makes one only where a copied column uses its types: then
`copy.not_carried` leaves it out). Left out: what an extension owns (pg_depend deptype 'e'),
internal triggers (foreign keys'), the triggers a partition inherits from its parent
(listed once, on the parent), the `_RETURN` rule of a view (the view itself), a relation
owner's own privileges, and the default schema's built-in grants to PUBLIC (every database
has them)."""

from __future__ import annotations

_USER = ("n.nspname NOT IN ('pg_catalog', 'information_schema') "
         "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'")  # fmt: skip


def _not_extension(catalog: str, oid: str) -> str:
    return (
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = "
        f"'pg_catalog.{catalog}'::regclass AND d.objid = {oid} AND d.deptype = 'e')"
    )


_RELATION = ("JOIN pg_catalog.pg_class c ON c.oid = {rel} "
             "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace")  # fmt: skip

# tgparentid (PostgreSQL 13+) marks a partition's clone of its parent's trigger; read through
# to_jsonb so older servers (no such column) list every trigger instead of failing
TRIGGERS = (
    "SELECT 'trigger', n.nspname, c.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid, false) "
    f"FROM pg_catalog.pg_trigger t {_RELATION.format(rel='t.tgrelid')} "
    f"WHERE NOT t.tgisinternal AND {_USER} AND {_not_extension('pg_trigger', 't.oid')} "
    "AND COALESCE((pg_catalog.to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0 ORDER BY 2, 3, 4"
)
# pg_get_functiondef cannot print an aggregate: it is named with where to find its DDL
ROUTINES = (
    "SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' "
    "ELSE 'function' END, n.nspname, NULL, "
    "p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', "
    "CASE WHEN p.prokind = 'a' THEN '-- aggregate ' || p.oid::pg_catalog.regprocedure::text "
    "|| ': pg_dump --schema-only prints its CREATE AGGREGATE' "
    "ELSE pg_catalog.pg_get_functiondef(p.oid) END "
    "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    f"WHERE {_USER} AND {_not_extension('pg_proc', 'p.oid')} ORDER BY 2, 4"
)
RULES = (
    "SELECT 'rule', n.nspname, c.relname, r.rulename, pg_catalog.pg_get_ruledef(r.oid, false) "
    f"FROM pg_catalog.pg_rewrite r {_RELATION.format(rel='r.ev_class')} "
    f"WHERE r.rulename <> '_RETURN' AND {_USER} AND {_not_extension('pg_rewrite', 'r.oid')} "
    "ORDER BY 2, 3, 4"
)
_ROLES = ("CASE WHEN p.polroles = '{0}' THEN 'PUBLIC' ELSE (SELECT pg_catalog.string_agg("
          "pg_catalog.quote_ident(a.rolname), ', ' ORDER BY a.rolname) FROM pg_catalog.pg_roles a "
          "WHERE a.oid = ANY (p.polroles)) END")  # fmt: skip
POLICIES = (
    "SELECT 'policy', n.nspname, c.relname, p.polname, pg_catalog.format("
    "'CREATE POLICY %I ON %I.%I AS %s FOR %s TO %s', p.polname, n.nspname, c.relname, "
    "CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, "
    "CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' "
    f"WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, {_ROLES}) "
    "|| COALESCE(' USING (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')', '') "
    "|| COALESCE(' WITH CHECK (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) "
    f"|| ')', '') FROM pg_catalog.pg_policy p {_RELATION.format(rel='p.polrelid')} "
    f"WHERE {_USER} ORDER BY 2, 3, 4"
)
ROW_SECURITY = (
    "SELECT 'row level security', n.nspname, c.relname, '', "
    "pg_catalog.format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', n.nspname, c.relname) "
    "|| CASE WHEN c.relforcerowsecurity THEN pg_catalog.format("
    "E';\\nALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', n.nspname, c.relname) ELSE '' END "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE c.relrowsecurity AND {_USER} ORDER BY 2, 3"
)
_GRANTEE = "COALESCE(pg_catalog.quote_ident(g.rolname), 'PUBLIC')"  # grantee 0 is PUBLIC
_PRIVILEGES = "pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)"
_GRANTABLE = "CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END"
_RELKINDS = "'r', 'p', 'v', 'm', 'f', 'S'"  # tables, views, foreign tables, sequences
TABLE_GRANTS = (
    f"SELECT 'grant', n.nspname, c.relname, COALESCE(g.rolname, 'PUBLIC'), pg_catalog.format("
    f"'GRANT %s ON %s %I.%I TO %s%s', {_PRIVILEGES}, "
    "CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, "
    f"n.nspname, c.relname, {_GRANTEE}, {_GRANTABLE}) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a "
    "LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee "
    f"WHERE c.relkind IN ({_RELKINDS}) AND a.grantee <> c.relowner "
    f"AND {_USER} GROUP BY n.nspname, c.relname, c.relkind, g.rolname, a.is_grantable "
    "ORDER BY 2, 3, 4"
)
COLUMN_GRANTS = (
    "SELECT 'grant', n.nspname, c.relname, COALESCE(g.rolname, 'PUBLIC') || ' (' || "
    f"t.attname || ')', pg_catalog.format('GRANT %s (%I) ON TABLE %I.%I TO %s%s', {_PRIVILEGES}, "
    f"t.attname, n.nspname, c.relname, {_GRANTEE}, {_GRANTABLE}) "
    f"FROM pg_catalog.pg_attribute t {_RELATION.format(rel='t.attrelid')} "
    "CROSS JOIN LATERAL pg_catalog.aclexplode(t.attacl) a "
    "LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee "
    f"WHERE t.attacl IS NOT NULL AND NOT t.attisdropped AND a.grantee <> c.relowner AND {_USER} "
    "GROUP BY n.nspname, c.relname, t.attname, g.rolname, a.is_grantable ORDER BY 2, 3, 4"
)
SCHEMA_GRANTS = (
    "SELECT 'grant', n.nspname, NULL, COALESCE(g.rolname, 'PUBLIC'), pg_catalog.format("
    f"'GRANT %s ON SCHEMA %I TO %s%s', {_PRIVILEGES}, n.nspname, {_GRANTEE}, {_GRANTABLE}) "
    "FROM pg_catalog.pg_namespace n CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a "
    "LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee "
    f"WHERE a.grantee <> n.nspowner AND {_USER} "
    "AND NOT (n.nspname = 'public' AND a.grantee = 0) "  # built in, on every target too
    "GROUP BY n.nspname, g.rolname, a.is_grantable ORDER BY 2, 4"
)
# a materialized view holds rows the copy does not read: made from its query, then refreshed
MATERIALIZED_VIEWS = (
    "SELECT 'materialized view', n.nspname, NULL, c.relname, pg_catalog.format("
    "'CREATE MATERIALIZED VIEW %I.%I AS ', n.nspname, c.relname) || pg_catalog.rtrim("
    "pg_catalog.pg_get_viewdef(c.oid, true), E'; \\n') || ' WITH NO DATA' "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE c.relkind = 'm' AND {_USER} AND {_not_extension('pg_class', 'c.oid')} ORDER BY 2, 4"
)
# ALTER DEFAULT PRIVILEGES: in a schema, or database-wide (defaclnamespace 0: no schema)
DEFAULT_PRIVILEGES = (
    "SELECT 'default privileges', n.nspname, NULL, r.rolname || ' to ' || "
    "COALESCE(g.rolname, 'PUBLIC'), pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s "
    "GRANT %s ON %s TO %s%s', r.rolname, COALESCE(' IN SCHEMA ' || pg_catalog.quote_ident("
    f"n.nspname), ''), {_PRIVILEGES}, CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' "
    "WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' "
    f"ELSE 'SCHEMAS' END, {_GRANTEE}, {_GRANTABLE}) "
    "FROM pg_catalog.pg_default_acl d JOIN pg_catalog.pg_roles r ON r.oid = d.defaclrole "
    "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace "
    "CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a "
    "LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee WHERE a.grantee <> d.defaclrole "
    "GROUP BY n.nspname, r.rolname, d.defaclobjtype, g.rolname, a.is_grantable ORDER BY 2, 4"
)
# database-wide (no schema of the selection): plpgsql is every database's
EXTENSIONS = (
    "SELECT 'extension', NULL, NULL, e.extname, pg_catalog.format("
    "'CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I', e.extname, n.nspname) "
    "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname <> 'plpgsql' ORDER BY 4"
)
EVENT_TRIGGERS = (
    "SELECT 'event trigger', NULL, NULL, e.evtname, pg_catalog.format("
    "'CREATE EVENT TRIGGER %I ON %s%s EXECUTE FUNCTION %s()', e.evtname, e.evtevent, "
    "CASE WHEN e.evttags IS NULL THEN '' ELSE ' WHEN TAG IN (' || (SELECT pg_catalog.string_agg("
    "pg_catalog.quote_literal(x), ', ') FROM pg_catalog.unnest(e.evttags) x) || ')' END, "
    "e.evtfoid::pg_catalog.regproc) FROM pg_catalog.pg_event_trigger e "
    f"WHERE {_not_extension('pg_event_trigger', 'e.oid')} ORDER BY 4"
)


class PostgresNotCarried:
    """Mixed into the PostgreSQL dialect (through `PostgresObjects`)."""

    # extensions, then routines: a trigger calls a function, which must exist before it
    not_carried_queries = (
        ("extensions", EXTENSIONS),
        ("functions and procedures", ROUTINES),
        ("triggers", TRIGGERS),
        ("event triggers", EVENT_TRIGGERS),
        ("materialized views", MATERIALIZED_VIEWS),
        ("rules", RULES),
        ("row-level security", ROW_SECURITY),
        ("policies", POLICIES),
        ("table grants", TABLE_GRANTS),
        ("column grants", COLUMN_GRANTS),
        ("schema grants", SCHEMA_GRANTS),
        ("default privileges", DEFAULT_PRIVILEGES),
    )
