"""What a copy does not create (issue 26) where no server runs here: SQL Server's catalog
queries compiled by sqlglot's T-SQL parser (never run against a live SQL Server), SQLite's
triggers listed from a real SQLite file, the --fail-on-not-carried refusal and the plan's
printed section."""

from __future__ import annotations

import io
import sqlite3

import pytest
import sqlglot
from sqlglot import exp

from sluice.cli.not_carried import print_not_carried, summary_line
from sluice.copy.not_carried import NotCarriedError, refuse_not_carried
from sluice.copy.plan import Plan, build_plan
from sluice.core.definition import NotCarried
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.dialects import mssql_not_carried as mn

MSSQL = get_dialect("mssql")


@pytest.mark.parametrize(
    ("query", "tables"),
    [
        (mn.TRIGGERS, {"triggers", "sql_modules"}),
        (mn.DATABASE_TRIGGERS, {"triggers", "sql_modules"}),
        (mn.ROUTINES, {"objects", "schemas", "sql_modules"}),
        (mn.SYNONYMS, {"synonyms"}),
        (mn.POLICIES, {"security_policies", "security_predicates"}),
        (
            mn.OBJECT_GRANTS,
            {"database_permissions", "objects", "schemas", "database_principals", "columns"},
        ),  # fmt: skip
        (mn.SCHEMA_GRANTS, {"database_permissions", "schemas", "database_principals"}),
    ],
)
def test_mssql_listing_queries_compile(query, tables):
    tree = sqlglot.parse_one(query, read="tsql")
    assert isinstance(tree, exp.Select)
    assert {t.name for t in tree.find_all(exp.Table)} == tables
    assert {t.db for t in tree.find_all(exp.Table)} == {"sys"}
    assert (
        len(tree.expressions) == 5
    )  # (kind, schema, table, name, ddl): what list_not_carried reads


def test_every_mssql_listing_query_is_used_by_the_dialect():
    used = {query for _, query in MSSQL.not_carried_queries}
    assert used == {mn.TRIGGERS, mn.DATABASE_TRIGGERS, mn.ROUTINES, mn.SYNONYMS, mn.POLICIES,
                    mn.OBJECT_GRANTS, mn.SCHEMA_GRANTS}  # fmt: skip


def test_mssql_grant_is_composed_with_quoted_names():
    tree = sqlglot.parse_one(mn.OBJECT_GRANTS, read="tsql")
    ddl = tree.expressions[4].sql("tsql")
    assert "QUOTENAME(s.name)" in ddl and "QUOTENAME(g.name)" in ddl and "' TO '" in ddl
    assert "WITH GRANT OPTION" in ddl and "DENY" in ddl


def _sqlite(tmp_path, statements) -> DbUrl:
    path = tmp_path / "src.db"
    with sqlite3.connect(path) as conn:
        for stmt in statements:
            conn.execute(stmt)
    return DbUrl.parse(f"sqlite:///{path}")


def test_sqlite_triggers_are_listed_with_their_ddl_and_runnable(tmp_path):
    trigger = ("CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN "
               "UPDATE t SET n = n + 1 WHERE id = NEW.id AND NEW.n = OLD.n; END")  # fmt: skip
    source = _sqlite(tmp_path, ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n INT)",
                                "CREATE TABLE other (id INTEGER PRIMARY KEY)",
                                trigger,
                                "CREATE TRIGGER o_ins AFTER INSERT ON other BEGIN "
                                "SELECT 1; END",
                                "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN SELECT "
                                "'postgresql://app:Tr1gger-Secret@db/x'; END"])  # fmt: skip
    target = DbUrl.parse(f"sqlite:///{tmp_path / 'dst.db'}")
    from sluice.copy.refusals import Selection

    plan = build_plan(source, target, selection=Selection(exclude=("other",)))
    assert [(n.kind, n.key) for n in plan.not_carried] == [("trigger", "t.t_ins"),
                                                           ("trigger", "t.t_touch")]  # fmt: skip
    assert "Tr1gger-Secret" not in plan.to_json()  # a password in a body is masked
    assert "postgresql://app:***@db/x" in plan.not_carried[0].ddl
    item = plan.not_carried[1]
    assert item.ddl == trigger and "not triggers" in item.reason
    # the listed DDL, run on a database holding the table, makes a trigger that fires
    with sqlite3.connect(tmp_path / "replica.db") as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n INT)")
        conn.execute("INSERT INTO t VALUES (1, 'a', 0)")
        conn.execute(item.ddl)
        conn.execute("UPDATE t SET v = 'b' WHERE id = 1")
        assert conn.execute("SELECT n FROM t").fetchone() == (1,)
    # the JSON round trip keeps the section
    assert Plan.from_json(plan.to_json()).not_carried == plan.not_carried


ITEMS = tuple(NotCarried("trigger", f"t.trg{i}", "sluice copies tables, not triggers",
                         f"CREATE TRIGGER trg{i} BEFORE UPDATE ON public.t FOR EACH ROW "
                         "EXECUTE FUNCTION touch()") for i in range(7))  # fmt: skip


def _plan(items) -> Plan:
    return Plan("src", "dst", "postgresql", "postgresql", (), not_carried=tuple(items))


def test_fail_on_not_carried_names_the_count_the_first_few_and_where_to_see_all():
    refuse_not_carried(_plan(ITEMS), False)  # without the flag: listed, not refused
    refuse_not_carried(_plan(()), True)  # nothing listed: nothing to refuse
    with pytest.raises(NotCarriedError) as err:
        refuse_not_carried(_plan(ITEMS), True)
    text = str(err.value)
    assert "7 item(s)" in text and "7 trigger" in text
    assert "trigger t.trg0" in text and "trigger t.trg4" in text and "t.trg5" not in text
    assert "and 2 more" in text and "`sluice plan`" in text
    assert err.value.exit_code == 1 and err.value.target_state == "untouched"


def test_the_section_prints_each_item_with_its_whole_ddl_as_a_script():
    out = io.StringIO()
    from rich.console import Console

    items = (*ITEMS[:2], NotCarried("function", "touch()", "not routines",
                                    "CREATE FUNCTION public.touch()\n RETURNS trigger\n"
                                    "AS $f$ BEGIN RETURN NEW; END $f$\n"))  # fmt: skip
    print_not_carried(Console(file=out, width=60), items)
    text = out.getvalue()
    assert text.startswith("not carried: 3 item(s)")
    assert (
        "-- function touch(): not routines\nCREATE FUNCTION public.touch()\n RETURNS trigger\n"
        in text
    )
    assert "AS $f$ BEGIN RETURN NEW; END $f$;\n" in text  # one terminator, after the body
    # never folded at the console's width: each line as the DDL has it
    assert f"{ITEMS[1].ddl};\n" in text and text.count("CREATE TRIGGER") == 2
    assert "3 item(s)" in summary_line(items) and summary_line(()) == ""


def test_a_table_missing_from_the_target_is_missing_in_every_report_form():
    from sluice.verify.report import summary_lines, to_markdown
    from sluice.verify.results import TableVerification

    gone = TableVerification("sales.orders", [], error="sales.orders: missing in the target",
                             counted_source_rows=1000, missing=True).to_dict()  # fmt: skip
    assert (gone["missing"], gone["source_rows"], gone["target_rows"], gone["ok"]) == (
        True, 1000, 0, False)  # fmt: skip
    report = {"source": "s", "target": "t", "tables": [gone], "ok": False}
    lines = summary_lines(report)
    assert "1 of 1 table differ (1 missing in the target)" in lines[0]
    assert lines[1].split() == ["sales.orders", "1,000", "->", "0", "rows", "0/0", "ranges",
                                "canonical", "MISSING"]  # fmt: skip
    assert "| sales.orders | 1,000 | 0 |" in to_markdown(report) and "MISSING" in to_markdown(
        report
    )


def test_fail_on_not_carried_reaches_the_copy_options_from_flags_jobs_and_dag_params():
    from sluice.airflow.tasks import value_options
    from sluice.cli.dagparams import job_options
    from sluice.cli.main import build_parser

    assert job_options("copy", {"fail_on_not_carried": True}).fail_on_not_carried is True
    assert job_options("copy", {}).fail_on_not_carried is False
    sync = job_options("sync", {"fail_on_not_carried": True})  # copy's key: left out there
    assert not hasattr(sync, "fail_on_not_carried")
    assert value_options({"fail_on_not_carried": True}).fail_on_not_carried is True
    parser = build_parser()
    for command in ("plan", "copy"):
        args = parser.parse_args([command, "--fail-on-not-carried"])
        assert args.fail_on_not_carried is True
    with pytest.raises(SystemExit):  # verify and sync compare or refresh: no such flag
        parser.parse_args(["verify", "--fail-on-not-carried"])
