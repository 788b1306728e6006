"""MariaDB's (and MySQL's) objects a copy does not create (issue 26): triggers, stored
procedures and functions, events, and the table and database grants of the databases the
run reads (the URL's; others named by --schemas).
The information_schema names them; SHOW CREATE prints each one's statement as the server
keeps it (with its DEFINER); grants are composed from TABLE_PRIVILEGES and
SCHEMA_PRIVILEGES, one statement per grantee (global privileges are the server's, not the
database's: not listed)."""

from __future__ import annotations

from typing import Any

# every database but the server's own: `copy.not_carried` keeps the ones the run reads (the
# URL's, and those --schemas names) before any statement is asked for
_USER = "NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
TRIGGERS = (
    "SELECT 'trigger', TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, NULL "
    f"FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA {_USER} "
    "ORDER BY TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER"
)
ROUTINES = (
    "SELECT LOWER(ROUTINE_TYPE), ROUTINE_SCHEMA, NULL, ROUTINE_NAME, NULL "
    f"FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA {_USER} "
    "ORDER BY ROUTINE_SCHEMA, ROUTINE_TYPE, ROUTINE_NAME"
)
EVENTS = (
    "SELECT 'event', EVENT_SCHEMA, NULL, EVENT_NAME, NULL FROM information_schema.EVENTS "
    f"WHERE EVENT_SCHEMA {_USER} ORDER BY EVENT_SCHEMA, EVENT_NAME"
)


def _quoted(column: str) -> str:
    return f"CONCAT('`', REPLACE({column}, '`', '``'), '`')"


_PRIVILEGES = "GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE SEPARATOR ', ')"
_GRANTABLE = "IF(IS_GRANTABLE = 'YES', ' WITH GRANT OPTION', '')"
TABLE_GRANTS = (
    f"SELECT 'grant', TABLE_SCHEMA, TABLE_NAME, GRANTEE, CONCAT('GRANT ', {_PRIVILEGES}, "
    f"' ON ', {_quoted('TABLE_SCHEMA')}, '.', {_quoted('TABLE_NAME')}, ' TO ', GRANTEE, "
    f"{_GRANTABLE}) FROM information_schema.TABLE_PRIVILEGES "
    f"WHERE TABLE_SCHEMA {_USER} GROUP BY TABLE_SCHEMA, TABLE_NAME, GRANTEE, IS_GRANTABLE "
    "ORDER BY TABLE_SCHEMA, TABLE_NAME, GRANTEE"
)
SCHEMA_GRANTS = (
    f"SELECT 'grant', TABLE_SCHEMA, NULL, GRANTEE, CONCAT('GRANT ', {_PRIVILEGES}, "
    f"' ON ', {_quoted('TABLE_SCHEMA')}, '.* TO ', GRANTEE, {_GRANTABLE}) "
    f"FROM information_schema.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA {_USER} "
    "GROUP BY TABLE_SCHEMA, GRANTEE, IS_GRANTABLE ORDER BY TABLE_SCHEMA, GRANTEE"
)
# SHOW CREATE <kind> `name`: the column holding the statement
_SHOW = {"trigger": ("TRIGGER", 2), "procedure": ("PROCEDURE", 2), "function": ("FUNCTION", 2),
         "event": ("EVENT", 3), "package": ("PACKAGE", 2),
         "package body": ("PACKAGE BODY", 2)}  # fmt: skip


class MysqlNotCarried:
    """Mixed into the MySQL dialect (through `MysqlObjects`)."""

    not_carried_queries = (
        ("stored routines", ROUTINES),
        ("triggers", TRIGGERS),
        ("events", EVENTS),
        ("table grants", TABLE_GRANTS),
        ("database grants", SCHEMA_GRANTS),
    )

    def not_carried_ddl(self, conn: Any, kind: str, schema: str | None, table: str | None,
                        name: str) -> str:  # fmt: skip
        """SHOW CREATE's statement; a routine the reading user may not see the body of
        (SHOW CREATE gives NULL then) is said so."""
        what, column = _SHOW.get(kind, (kind.upper(), 2))
        cur = conn.cursor()
        where = f"{self.quote(schema)}." if schema else ""
        cur.execute(f"SHOW CREATE {what} {where}{self.quote(name)}")
        row = cur.fetchone()
        text = row[column] if row is not None and len(row) > column else None
        if text is None:
            return f"-- SHOW CREATE {what} gave no statement: the reading user may not see it"
        return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
