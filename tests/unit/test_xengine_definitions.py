"""A table's definition across engines (issue 26), without servers: how MariaDB's and SQL
Server's default texts are classified, and what each target renders for another engine's
default, collation, CHECK and ON UPDATE. Every T-SQL statement is compile-checked with
sqlglot's T-SQL parser (SQL Server never runs here); the live MariaDB <-> PostgreSQL
behaviour is tests/integration/test_definition_mariadb_pg.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlglot
from sqlglot import exp

from sluice.core.definition import BY_DEFAULT, EXPRESSION, LITERAL, NOW, SEQUENCE, Check, Default
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.dialects import mssql_definition as ms
from sluice.dialects import mysql_definition as my
from sluice.dialects.translation import translate_expression

# (the text MariaDB or MySQL shows, kind, value); None: no default
MYSQL_DEFAULTS = [
    ("current_timestamp()", NOW, "timestamp"),
    ("CURRENT_TIMESTAMP", NOW, "timestamp"),
    ("current_timestamp(3)", NOW, "timestamp"),
    ("now()", NOW, "timestamp"),
    ("NOW(6)", NOW, "timestamp"),
    ("current_timestamp() ON UPDATE current_timestamp()", NOW, "timestamp"),
    ("curdate()", NOW, "date"),
    ("'it''s'", LITERAL, "it's"),
    ("'a\\\\b'", LITERAL, "a\\b"),  # SHOW CREATE TABLE's escaped backslash
    ("'current_timestamp()'", LITERAL, "current_timestamp()"),  # a string, not the moment
    ("''", LITERAL, ""),
    ("0", LITERAL, "0"),
    ("-1.50", LITERAL, "-1.50"),
    ("'0'", LITERAL, "0"),  # MySQL 8's SHOW CREATE TABLE quotes numbers
    ("(1 + 1)", EXPRESSION, "(1 + 1)"),
    ("(curdate())", NOW, "date"),  # MySQL 8's expression default
    ("('x')", LITERAL, "x"),
    ("b'101'", EXPRESSION, "b'101'"),
    ("uuid()", EXPRESSION, "uuid()"),
    ("NULL", None, None),
    (None, None, None),
]


@pytest.mark.parametrize("text, kind, value", MYSQL_DEFAULTS)
def test_mysql_defaults_are_classified(text, kind, value):
    d = my.classify_default(text)
    if kind is None:
        assert d is None
        return
    assert (d.kind, d.value, d.engine) == (kind, value, "mysql")
    assert "ON UPDATE" not in d.text.upper()  # the default's own text only


# information_schema.COLUMN_DEFAULT as MySQL 8 spells it (strings unquoted, expressions
# marked DEFAULT_GENERATED), then as MariaDB does (quoted since 10.2.7): the same default
@pytest.mark.parametrize(
    "default, extra, data_type, mariadb, kind, value",
    [
        ("abc", "", "varchar", False, LITERAL, "abc"),
        ("12", "", "varchar", False, LITERAL, "12"),
        ("12", "", "int", False, LITERAL, "12"),
        ("CURRENT_TIMESTAMP", "DEFAULT_GENERATED", "datetime", False, NOW, "timestamp"),
        ("(`a` + 1)", "DEFAULT_GENERATED", "int", False, EXPRESSION, "((`a` + 1))"),
        ("'abc'", "", "varchar", True, LITERAL, "abc"),
        ("NULL", "", "varchar", True, None, None),
    ],
)
def test_catalog_defaults_of_mysql_and_mariadb(default, extra, data_type, mariadb, kind, value):
    d = my.classify_default(my.catalog_default(default, extra, data_type, mariadb))
    assert (None if d is None else (d.kind, d.value)) == (None if kind is None else (kind, value))


def test_mysql_catalog_facts_give_on_update_collation_and_identity_kind():
    ts = Column("ts", SqlType(Kind.DATETIME, precision=3))
    got = my.with_facts(ts, ("current_timestamp(3)", "on update current_timestamp(3)", None))
    assert (got.default.kind, got.on_update) == (NOW, "now")
    code = my.with_facts(Column("c", SqlType(Kind.STRING, 20)), ("NULL", "", "utf8mb3_general_ci"))
    assert (code.collation, code.case_insensitive, code.default) == (
        "utf8mb3_general_ci", True, None
    )  # fmt: skip
    exact = my.with_facts(Column("e", SqlType(Kind.STRING, 20)), (None, "", "utf8mb4_bin"))
    assert exact.case_insensitive is False
    ident = my.with_facts(Column("id", SqlType(Kind.INTEGER), identity=True), None)
    assert ident.identity_kind == BY_DEFAULT and ident.default is None


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("(getdate())", NOW, "timestamp"),
        ("(sysdatetime())", NOW, "timestamp"),
        ("((0))", LITERAL, "0"),
        ("((-2.5))", LITERAL, "-2.5"),
        ("(N'x')", LITERAL, "x"),
        ("('it''s (a) test')", LITERAL, "it's (a) test"),
        ("(newid())", EXPRESSION, "newid()"),
        ("(CONVERT([bit],(0)))", EXPRESSION, "CONVERT([bit],(0))"),
        ("(NULL)", None, None),
    ],
)
def test_sql_server_defaults_are_classified(text, kind, value):
    d = ms.classify_default(text)
    assert (None if d is None else (d.kind, d.value, d.text)) == (
        None if kind is None else (kind, value, text)
    )


# (expression, source, target, expected); None: not translated (listed as not carried)
CHECKS = [
    ("`n` >= 0", "mysql", "postgresql", '"n" >= 0'),
    ("`n` between 1 and 5 and `s` in ('a','b')", "mysql", "postgresql",
     """"n" BETWEEN 1 AND 5 AND "s" IN ('a', 'b')"""),
    ("`a` <> `b` or `c` is null", "mysql", "mssql", "[a] <> [b] OR [c] IS NULL"),
    ("json_valid(`j`)", "mysql", "postgresql", None),  # a function: not judged
    ("char_length(`s`) > 2", "mysql", "postgresql", None),
    # MariaDB keeps a CHECK as its parser printed it: `||` there is the default sql_mode's OR
    ("`a` || `b`", "mysql", "postgresql", '"a" OR "b"'),
    ("`s` = 'a\\\\b'", "mysql", "postgresql", None),  # a backslash escape
    ("((price > (0)::numeric))", "postgresql", "mysql", "((`price` > 0))"),
    ("((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
     "postgresql", "mysql", "(`status` IN ('a', 'b'))"),
    ("((qty >= 0) AND (qty < 100))", "postgresql", "mssql", "(([qty] >= 0) AND ([qty] < 100))"),
    ("(lower(name) <> ''::text)", "postgresql", "mysql", None),
    ("(n::bigint > 1)", "postgresql", "mysql", None),  # a column cast to a number: not judged
    ("(active = true)", "postgresql", "mssql", "([active] = 1)"),
    ("(active OR (n > 1))", "postgresql", "mssql", None),  # a bare bit is no condition there
    ("(active OR (n > 1))", "postgresql", "mysql", "(`active` OR (`n` > 1))"),
]  # fmt: skip


@pytest.mark.parametrize("sql, source, target, expected", CHECKS)
def test_check_expressions_translate_only_when_certain(sql, source, target, expected):
    assert translate_expression(sql, source, target) == expected


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("`active` in (0,1)", None),  # a tinyint(1): PostgreSQL's boolean = 1 is refused
        ("`active` = 1", None),
        ("`qty` >= 0", '"qty" >= 0'),
        ("`qty` in (0, 5)", '"qty" IN (0, 5)'),
    ],
)
def test_postgresql_takes_no_check_comparing_a_possible_boolean_with_0_or_1(sql, expected):
    assert get_dialect("postgresql").check_clause(Check("ck", sql, "mysql")) == expected


def col(name, kind, default=None, **kw) -> Column:
    t = kw.pop("type", None) or SqlType(kind, **kw.pop("t", {}))
    return Column(name, t, default=default, **kw)


def mysql_default(text: str) -> Default:
    return my.classify_default(text)


def pg_default(kind: str, value: str, text: str = "") -> Default:
    return Default(kind, value, "postgresql", text or value)


# (column, what PostgreSQL renders after DEFAULT); None: not carried
PG_FROM_MYSQL = [
    (col("c", Kind.DATETIME, mysql_default("current_timestamp(6)"), t={"precision": 6}),
     "CURRENT_TIMESTAMP"),
    (col("d", Kind.DATE, mysql_default("curdate()")), "CURRENT_DATE"),
    (col("s", Kind.STRING, mysql_default("'it''s'")), "'it''s'"),
    (col("s", Kind.STRING, mysql_default("'a\\\\b'")), "'a\\b'"),  # standard strings
    (col("n", Kind.INTEGER, mysql_default("'0'")), "0"),
    (col("n", Kind.INTEGER, mysql_default("'x'")), None),
    (col("p", Kind.DECIMAL, mysql_default("1.50")), "1.50"),
    (col("b", Kind.BOOLEAN, mysql_default("1")), "TRUE"),
    (col("b", Kind.BOOLEAN, mysql_default("0")), "FALSE"),
    (col("z", Kind.DATETIME, mysql_default("'0000-00-00 00:00:00'")), None),
    (col("e", Kind.INTEGER, mysql_default("(1 + 1)")), "(1 + 1)"),
    (col("u", Kind.STRING, mysql_default("uuid()")), None),
    (col("x", Kind.STRING), ""),
]  # fmt: skip


@pytest.mark.parametrize("column, expected", PG_FROM_MYSQL)
def test_postgresql_renders_mysql_defaults(column, expected):
    assert get_dialect("postgresql").default_clause(column) == expected


MYSQL_FROM_PG = [
    (col("c", Kind.DATETIME, pg_default(NOW, "timestamp", "now()"), t={"precision": 6}),
     "CURRENT_TIMESTAMP(6)"),
    (col("c", Kind.DATETIME, pg_default(NOW, "timestamp", "now()"), t={"precision": 0}),
     "CURRENT_TIMESTAMP"),
    (col("c", Kind.DATETIME_TZ, pg_default(NOW, "timestamp", "now()"), t={"precision": 3}),
     "CURRENT_TIMESTAMP(3)"),
    (col("d", Kind.DATE, pg_default(NOW, "date", "CURRENT_DATE")), "(CURRENT_DATE)"),
    (col("s", Kind.STRING, pg_default(LITERAL, "a\\b'c"), t={"length": 10}), "'a\\\\b''c'"),
    (col("s", Kind.STRING, pg_default(LITERAL, "x")), "('x')"),  # LONGTEXT: an expression
    (col("b", Kind.BOOLEAN, pg_default(LITERAL, "true")), "1"),
    (col("n", Kind.BIGINT, pg_default(LITERAL, "42")), "42"),
    (col("i", Kind.INTEGER, pg_default(SEQUENCE, "t_i_seq"), identity=True), ""),
    (col("i", Kind.INTEGER, pg_default(SEQUENCE, "other_seq")), None),
    (col("e", Kind.INTEGER, pg_default(EXPRESSION, "(random() * 10)")), None),
]  # fmt: skip


@pytest.mark.parametrize("column, expected", MYSQL_FROM_PG)
def test_mariadb_renders_postgresql_defaults(column, expected):
    assert get_dialect("mysql").default_clause(column) == expected


def test_mariadb_keeps_its_own_on_update_and_puts_it_after_the_default():
    mine = SqlType(Kind.DATETIME, precision=3, native="timestamp(3)", engine="mysql")
    c = Column("ts", mine, default=mysql_default("current_timestamp(3)"), on_update="now")
    assert get_dialect("mysql").default_clause(c) == (
        "current_timestamp(3) ON UPDATE CURRENT_TIMESTAMP(3)"
    )


def test_collations_map_by_case_sensitivity():
    from_mysql = SqlType(Kind.STRING, 20, native="varchar(20)", engine="mysql")
    ci = Column("c", from_mysql, collation="utf8mb3_general_ci", case_insensitive=True)
    cs = Column("c", from_mysql, collation="utf8mb4_bin", case_insensitive=False)
    pg = get_dialect("postgresql")
    assert pg.collation_clause(ci) == 'COLLATE "public"."sluice_ci"'
    assert pg.collation_clause(cs) == ""
    stmts = pg.prelude_sql([Table("t", (ci,))])
    assert stmts == ['CREATE COLLATION IF NOT EXISTS "public"."sluice_ci" (provider = icu, '
                     "locale = 'und-u-ks-level2', deterministic = false)"]  # fmt: skip
    assert pg.prelude_sql([Table("t", (cs,))]) == []
    from_pg = SqlType(Kind.STRING, 20, engine="postgresql", native="character varying(20)")
    pg_ci = Column("c", from_pg, collation='public."ci"', case_insensitive=True)
    assert get_dialect("mysql").collation_clause(pg_ci) == (
        "/*M!101000 COLLATE utf8mb4_uca1400_nopad_as_ci */"
    )
    assert get_dialect("mysql").collation_clause(ci) == ""  # its own declaration has it
    assert get_dialect("mssql").collation_clause(ci) == "COLLATE Latin1_General_100_CI_AS_SC"
    assert get_dialect("mssql").collation_clause(cs) == "COLLATE Latin1_General_100_BIN2"


def test_identities_that_took_explicit_ids_stay_by_default_on_postgresql():
    pg = get_dialect("postgresql")
    assert pg.identity_clause(BY_DEFAULT) == "GENERATED BY DEFAULT AS IDENTITY"
    assert pg.identity_clause("") == "GENERATED ALWAYS AS IDENTITY"  # kind not read: as before


def test_on_update_becomes_a_trigger_named_after_the_live_table():
    ts = Column("updated", SqlType(Kind.DATETIME, precision=6), on_update="now")
    live = Table("orders", (Column("id", SqlType(Kind.INTEGER)), ts), ("id",), schema="sales")
    stage = Table("_sluice_stage_orders", live.columns, ("id",), schema="sales")
    function, trigger = get_dialect("postgresql").definition_sql(stage, live)
    assert function.startswith('CREATE OR REPLACE FUNCTION "sales"."sluice_on_update_orders"()')
    assert 'IF NEW."updated" IS NOT DISTINCT FROM OLD."updated" THEN' in function
    assert 'NEW."updated" := CURRENT_TIMESTAMP' in function
    assert "IF NEW::text = OLD::text THEN RETURN NEW" in function  # nothing changed
    assert trigger == (
        'CREATE TRIGGER "sluice_on_update_orders" BEFORE UPDATE ON "sales"."_sluice_stage_orders" '
        'FOR EACH ROW EXECUTE FUNCTION "sales"."sluice_on_update_orders"()'
    )
    plain = Table("t", (Column("id", SqlType(Kind.INTEGER)),))
    assert get_dialect("postgresql").definition_sql(plain, plain) == []


# --- SQL Server: every generated statement parses as T-SQL ------------------------------------
MSSQL_FROM_OTHERS = [
    (col("c", Kind.DATETIME, mysql_default("current_timestamp(6)"), t={"precision": 6}),
     "(SYSDATETIME())"),
    (col("c", Kind.DATETIME, mysql_default("now()")), "(GETDATE())"),
    (col("c", Kind.DATETIME_TZ, pg_default(NOW, "timestamp"), t={"precision": 6}),
     "(SYSDATETIMEOFFSET())"),
    (col("d", Kind.DATE, mysql_default("curdate()")), "(CAST(GETDATE() AS date))"),
    (col("s", Kind.STRING, mysql_default("'it''s'"), t={"length": 10}), "(N'it''s')"),
    (col("b", Kind.BOOLEAN, pg_default(LITERAL, "false")), "(0)"),
    (col("n", Kind.INTEGER, mysql_default("0")), "(0)"),
    (col("e", Kind.INTEGER, mysql_default("(1 + 1)")), "((1 + 1))"),
    (col("z", Kind.DATETIME, mysql_default("'0000-00-00 00:00:00'")), None),
]  # fmt: skip


@pytest.mark.parametrize("column, expected", MSSQL_FROM_OTHERS)
def test_sql_server_renders_other_engines_defaults(column, expected):
    assert get_dialect("mssql").default_clause(column) == expected


MSSQL_CHECKS = (
    Check("ck_qty", "`qty` >= 0 AND `qty` < 1000", "mysql"),
    Check("ck_s", "((status)::text = ANY ((ARRAY['a'::text, 'b'::text])))", "postgresql"),
    Check("ck_len", "char_length(`status`) > 0", "mysql"),  # not carried: left out
)


def test_sql_server_create_table_compiles_as_t_sql_with_every_translation():
    dialect = get_dialect("mssql")
    ci = SqlType(Kind.STRING, 10, native="varchar(10)", engine="mysql")
    columns = (
        col("id", Kind.INTEGER, identity=True, identity_kind=BY_DEFAULT),
        *(replace(c, name=f"c{n}") for n, (c, _) in enumerate(MSSQL_FROM_OTHERS)),
        Column("status", ci, default=mysql_default("'new'"), case_insensitive=True),
        Column("qty", SqlType(Kind.INTEGER), default=mysql_default("0")),
    )
    table = Table("t", columns, ("id",), schema="dbo", checks=MSSQL_CHECKS)
    (ddl,) = dialect.create_table_sql(table)
    tree = sqlglot.parse_one(ddl, read="tsql")
    assert isinstance(tree, exp.Create)
    defaults = list(tree.find_all(exp.DefaultColumnConstraint))
    assert len(defaults) == sum(1 for _, e in MSSQL_FROM_OTHERS if e) + 2
    assert len(list(tree.find_all(exp.CheckColumnConstraint))) == 2  # char_length: not made
    assert "COLLATE Latin1_General_100_CI_AS_SC DEFAULT (N'new')" in ddl
    assert dialect.check_clause(MSSQL_CHECKS[2]) is None


def test_sql_server_as_a_source_reads_collation_sensitivity_and_defaults():
    from sqlalchemy.dialects.mssql import NVARCHAR

    dialect = get_dialect("mssql")
    info = {"type": NVARCHAR(20, collation="SQL_Latin1_General_CP1_CI_AS"),
            "default": "(N'x')", "comment": None}  # fmt: skip
    c = dialect.read_column(Column("c", SqlType(Kind.STRING, 20)), info)
    assert (c.collation, c.case_insensitive) == ("SQL_Latin1_General_CP1_CI_AS", True)
    assert (c.default.kind, c.default.value, c.default.engine) == (LITERAL, "x", "mssql")
    info["type"] = NVARCHAR(20, collation="Latin1_General_100_CS_AS")
    assert (
        dialect.read_column(Column("c", SqlType(Kind.STRING, 20)), info).case_insensitive is False
    )


@pytest.mark.parametrize(
    "target, column, expected",
    [
        ("postgresql", col("c", Kind.DATETIME, ms.classify_default("(getdate())")),
         "CURRENT_TIMESTAMP"),
        ("postgresql", col("s", Kind.STRING, ms.classify_default("(N'it''s')")), "'it''s'"),
        ("postgresql", col("b", Kind.BOOLEAN, ms.classify_default("((1))")), "TRUE"),
        ("mysql", col("n", Kind.INTEGER, ms.classify_default("((0))")), "0"),
        ("mysql", col("g", Kind.UUID, ms.classify_default("(newid())")), None),
    ],
)  # fmt: skip
def test_sql_server_defaults_on_other_engines(target, column, expected):
    assert get_dialect(target).default_clause(column) == expected


def test_sql_server_checks_on_other_engines():
    check = Check("ck_qty", "([qty]>=(0) AND [qty]<(1000))", "mssql")
    assert get_dialect("postgresql").check_clause(check) == '("qty" >= (0) AND "qty" < (1000))'
    assert get_dialect("mysql").check_clause(check) == "(`qty` >= (0) AND `qty` < (1000))"
    assert get_dialect("postgresql").check_clause(Check("ck", "(len([s])>(0))", "mssql")) is None


def test_trigger_names_of_long_tables_stay_apart():
    ts = Column("updated", SqlType(Kind.DATETIME), on_update="now")
    names = set()
    for last in "xy":
        live = Table("t" * 60 + last, (ts,))
        function, _ = get_dialect("postgresql").definition_sql(live, live)
        name = function.split('"')[3]  # "public"."name"
        assert len(name) == 63 and name.startswith("sluice_on_update_ttt")
        names.add(name)
    assert len(names) == 2
