"""The statements that make a target's own foreign key again after the table it points at was
replaced (dialects.keys, ADR 0021): unchecked first, validated second, its actions kept. SQL
Server's are compile-checked with sqlglot (no server here), and so are its catalogue
queries; PostgreSQL's and MariaDB's run live in tests/integration/test_failed_run_finished."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from sluice.core.schema import ForeignKey
from sluice.dialects import get_dialect, mssql_keys
from sluice.dialects.keys import LiveKey

FK = ForeignKey("notes", ("parent_id",), "parent", ("id",), "app", "app", "notes_parent",
                on_delete="CASCADE", on_update="SET NULL")  # fmt: skip


def test_postgresql_makes_it_again_from_its_own_definition_not_valid_then_validated():
    pg = get_dialect("postgresql")
    key = LiveKey(FK, "FOREIGN KEY (parent_id) REFERENCES app.parent(id) ON DELETE CASCADE "
                      "DEFERRABLE NOT VALID", validated=False)  # fmt: skip
    add, validate = pg.readd_foreign_key_sql(key)
    assert add == ('ALTER TABLE "app"."notes" ADD CONSTRAINT "notes_parent" FOREIGN KEY '
                   "(parent_id) REFERENCES app.parent(id) ON DELETE CASCADE DEFERRABLE "
                   "NOT VALID")  # fmt: skip
    assert validate == 'ALTER TABLE "app"."notes" VALIDATE CONSTRAINT "notes_parent"'


def test_mariadb_makes_it_again_with_its_actions_checked_as_added():
    (add,) = get_dialect("mysql").readd_foreign_key_sql(LiveKey(FK))
    assert add.startswith("ALTER TABLE `app`.`notes` ADD CONSTRAINT `notes_parent` FOREIGN KEY")
    assert "ON DELETE CASCADE" in add and "ON UPDATE SET NULL" in add
    assert add.count("ON DELETE") == 1


def test_sql_server_makes_it_again_with_nocheck_then_checks_it_and_compiles():
    add, check = get_dialect("mssql").readd_foreign_key_sql(LiveKey(FK))
    assert " WITH NOCHECK ADD CONSTRAINT " in add and "ON DELETE CASCADE" in add
    parsed = sqlglot.parse_one(add.replace(" WITH NOCHECK ", " ", 1), read="tsql")
    assert isinstance(parsed, exp.Alter)
    assert check == "ALTER TABLE [app].[notes] WITH CHECK CHECK CONSTRAINT [notes_parent]"


def test_sql_server_catalogue_queries_compile():
    for sql in (mssql_keys.REFERENCING, mssql_keys.DECLARED, mssql_keys.UNIQUE, mssql_keys.INDEXES):
        parsed = sqlglot.parse_one(sql.replace("%s", "N'[app].[parent]'"), read="tsql")
        assert isinstance(parsed, exp.Select), sql
