"""The SQL Server dialect without a server: every T-SQL statement it generates is compiled by
sqlglot's T-SQL parser and checked for kind and identifiers; parameters are substituted by
pymssql's own quoting function, so the text checked is the text pymssql would send.

sqlglot (30.x) cannot parse a few T-SQL statements (DBCC, RAISERROR, SET IDENTITY_INSERT,
ALTER TABLE ... WITH [NO]CHECK): for those the test checks the exact statement form and
parses every expression and identifier inside it with sqlglot separately.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import replace
from decimal import Decimal

import pymssql
import pytest
import sqlglot
from pymssql import _mssql
from sqlalchemy.dialects import mssql as sa_mssql
from sqlalchemy.dialects.mssql.base import MSDialect
from sqlglot import exp

from sluice.copy.reflect import neutral_type
from sluice.copy.staging import live_table, staging_table, temp_name
from sluice.core.errors import ConfigError, TerminalError, TransientError
from sluice.core.schema import Column, ForeignKey, Index, Table
from sluice.core.types import Kind, SqlType
from sluice.datasets.stackoverflow import TABLE_NAMES, TABLES
from sluice.dialects import get_dialect, mssql_driver
from sluice.dialects import mssql_types as mt
from sluice.dialects.mssql import MssqlDialect

D: MssqlDialect = get_dialect("mssql")


def tsql(sql: str, params=None) -> exp.Expression:
    """Parse one statement as T-SQL after pymssql-style parameter substitution."""
    if params is not None:
        sql = _mssql.substitute_params(sql, tuple(params)).decode()
    return sqlglot.parse_one(sql, read="tsql")


def parts(qualified: str) -> list[str]:
    """The name parts of a bracket-quoted multi-part name, as T-SQL reads them."""
    table = tsql(f"SELECT 1 FROM {qualified}").find(exp.Table)
    return [p.name for p in table.parts]


def string_literal(sql_literal: str) -> str:
    """The value of an N'...' literal, as T-SQL reads it."""
    lit = tsql(f"SELECT {sql_literal}").expressions[0]
    assert isinstance(lit, exp.National), sql_literal
    return lit.name


def so_live(name: str) -> Table:
    return live_table(D, TABLES[name])


# --- DDL -------------------------------------------------------------------------------------


def _check_create(sql: str, table: Table, *, primary_key: bool) -> None:
    create = tsql(sql)
    assert isinstance(create, exp.Create) and create.args["kind"] == "TABLE"
    target = create.this.this
    assert [p.name for p in target.parts] == [p for p in (table.schema, table.name) if p]
    defs = [e for e in create.this.expressions if isinstance(e, exp.ColumnDef)]
    assert [c.name for c in defs] == list(table.column_names)
    for col, cdef in zip(table.columns, defs):
        assert cdef.args["kind"] == exp.DataType.build(D.render_type(col.type), dialect="tsql")
        nn = cdef.find(exp.NotNullColumnConstraint)
        assert bool(nn.args.get("allow_null")) == col.nullable, col.name
        ident = cdef.find(exp.GeneratedAsIdentityColumnConstraint)
        assert (ident is not None) == col.identity, col.name
        if ident is not None:
            assert (ident.args["start"].name, ident.args["increment"].name) == ("1", "1")
    constraints = [e for e in create.this.expressions if isinstance(e, exp.Constraint)]
    if not primary_key:
        assert constraints == []
        return
    (pk,) = constraints
    assert pk.name == table.primary_key_name
    assert pk.find(exp.PrimaryKeyColumnConstraint) is not None
    clustered = pk.find(exp.ClusteredColumnConstraint)
    assert [o.this.name for o in clustered.this] == list(table.primary_key)


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_stackoverflow_ddl_compiles_with_identity_and_clustered_key(name):
    (sql,) = D.create_table_sql(TABLES[name])
    _check_create(sql, TABLES[name], primary_key=True)
    (live,) = D.create_table_sql(so_live(name))
    assert live.startswith(f"CREATE TABLE [dbo].[{name}] (")
    _check_create(live, so_live(name), primary_key=True)


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_staging_ddl_is_a_heap_with_the_same_columns(name):
    stage = staging_table(D, TABLES[name])
    assert stage.schema == "dbo" and stage.name == f"_sluice_stage_{name}"
    (sql,) = D.create_table_sql(stage, primary_key=not D.caps.key_after_load)
    _check_create(sql, stage, primary_key=False)
    (add,) = D.add_primary_key_sql(stage)
    alter = tsql(add)
    assert isinstance(alter, exp.Alter)
    assert parts(D.qualified(stage)) == ["dbo", stage.name]
    constraint = alter.find(exp.Constraint)
    assert constraint.name == temp_name(D, "pk", f"PK_{name}__Id")
    assert [o.this.name for o in constraint.find(exp.ClusteredColumnConstraint).this] == ["Id"]


def test_drop_table_and_index_creation():
    drop = tsql(D.drop_table_sql(so_live("Posts")))
    assert isinstance(drop, exp.Drop) and drop.args["exists"] and drop.args["kind"] == "TABLE"
    assert [p.name for p in drop.find(exp.Table).parts] == ["dbo", "Posts"]
    stage = staging_table(D, TABLES["Posts"])
    for unique in (False, True):
        create = tsql(
            D.create_index_sql(stage, "_sluice_ix_IX_a", ["OwnerUserId", "Score"], unique)
        )
        assert create.args["kind"] == "INDEX" and bool(create.args["unique"]) == unique
        index = create.this
        assert index.name == "_sluice_ix_IX_a"
        assert [p.name for p in index.args["table"].parts] == ["dbo", stage.name]
        assert [o.this.name for o in index.args["params"].args["columns"]] == [
            "OwnerUserId",
            "Score",
        ]


def test_table_exists_asks_object_id_in_dbo():
    class Answer(FakeConn):
        def cursor(self):
            cur = FakeCursor(self)
            cur.fetchone = lambda: (self.rows[0],)
            return cur

        def rollback(self):
            self.log.append(("ROLLBACK", None))

    for answer, expected in ((1234, True), (None, False)):
        conn = Answer(rows=[answer])
        assert D.table_exists(conn, "_sluice_stage_Posts") is expected
        (sql, params), rollback = conn.log
        select = tsql(sql, params)
        assert select.find(exp.ObjectId).this.name == "[dbo].[_sluice_stage_Posts]"
        assert rollback == ("ROLLBACK", None)


def test_create_database():
    create = tsql(D.create_database_sql("so]copy"))
    assert create.args["kind"] == "DATABASE" and create.this.name == "so]copy"


def test_identifiers_are_bracket_quoted_with_doubled_closing_brackets():
    assert D.quote("a]b") == "[a]]b]"
    assert parts(D.qualified("we]ird", "dbo")) == ["dbo", "we]ird"]


# --- identity --------------------------------------------------------------------------------


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql, *params):
        self.conn.log.append((sql, params[0] if params else None))
        if self.conn.fail_on and self.conn.fail_on in sql:
            raise pymssql.OperationalError(1205, b"deadlocked; severity 13")

    def fetchall(self):
        return self.conn.rows

    def fetchmany(self, n):
        self.conn.fetches.append(n)
        batch, self.conn.rows = self.conn.rows[:n], self.conn.rows[n:]
        return batch

    def fetchall_forbidden(self):  # pragma: no cover - reads must never load everything
        raise AssertionError


class FakeConn:
    """Records statements and bulk copies the way pymssql would receive them."""

    def __init__(self, rows=(), fail_on=None):
        self.log: list[tuple[str, object]] = []
        self.bulk: list[tuple[str, list[tuple], dict]] = []
        self.rows = list(rows)
        self.fetches: list[int] = []
        self.fail_on = fail_on

    def cursor(self):
        return FakeCursor(self)

    def bulk_copy(self, table_name, elements, **kw):
        self.bulk.append((table_name, list(elements), kw))


def _set_identity_insert(sql: str, table: Table, state: str) -> None:
    m = re.fullmatch(r"SET IDENTITY_INSERT (\S+) (ON|OFF)", sql)
    assert m and m.group(2) == state, sql
    assert parts(m.group(1)) == [table.schema, table.name]


def test_identity_insert_on_and_off_around_the_load():
    stage = staging_table(D, TABLES["Votes"])
    conn = FakeConn()
    with D.identity_insert(conn, stage):
        conn.log.append(("load", None))
    assert [s for s, _ in conn.log][1] == "load"
    _set_identity_insert(conn.log[0][0], stage, "ON")
    _set_identity_insert(conn.log[2][0], stage, "OFF")
    plain = replace(stage, columns=tuple(replace(c, identity=False) for c in stage.columns))
    with D.identity_insert(conn, plain):
        pass
    assert len(conn.log) == 3


def test_identity_insert_off_failure_does_not_hide_the_load_error():
    stage = staging_table(D, TABLES["Votes"])
    conn = FakeConn(fail_on="OFF")
    with pytest.raises(ValueError, match="load broke"), D.identity_insert(conn, stage):
        raise ValueError("load broke")


def test_checkident_reseeds_for_both_states_of_the_identity():
    (sql,) = D.align_identity_sql(so_live("Posts"), 42)
    dbcc = re.compile(r"DBCC CHECKIDENT \((N'(?:[^']|'')*'), RESEED, (-?\d+)\) WITH NO_INFOMSGS")
    found = dbcc.findall(sql)
    assert [(string_literal(t), int(n)) for t, n in found] == [
        ("[dbo].[Posts]", 42),  # identity never used: RESEED n hands out n
        ("[dbo].[Posts]", 41),  # identity used: RESEED n hands out n + 1
    ]
    # the IF/ELSE around them compiles; sqlglot has no DBCC, so each becomes a SELECT
    skeleton = tsql(dbcc.sub(lambda m: f"SELECT {m.group(1)}, {m.group(2)}", sql))
    assert isinstance(skeleton, exp.IfBlock)
    condition = skeleton.this
    assert isinstance(condition, exp.Exists)
    assert [p.name for p in condition.find(exp.Table).parts] == ["sys", "identity_columns"]
    assert condition.find(exp.Is).this.name == "last_value"
    assert condition.find(exp.ObjectId).this.name == "[dbo].[Posts]"
    assert D.align_identity_sql(replace(so_live("Posts"), columns=()), 42) == []


def test_checkident_quotes_hostile_names():
    t = Table("it's]", (Column("Id", SqlType(Kind.INTEGER), False, identity=True),), ("Id",))
    (sql,) = D.align_identity_sql(live_table(D, t), 1)
    literal = re.search(r"CHECKIDENT \((N'(?:[^']|'')*')", sql).group(1)
    assert parts(string_literal(literal)) == ["dbo", "it's]"]


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "ops"),
    [(None, None, []), (10, None, [(exp.GT, "10")]), (None, 20, [(exp.LTE, "20")]),
     (10, 20, [(exp.GT, "10"), (exp.LTE, "20")])],
)  # fmt: skip
def test_keyset_select_for_open_and_closed_ranges(lo, hi, ops):
    table = so_live("Posts")
    sql, params = D.select_range_sql(table, lo, hi)
    select = tsql(sql, params)
    assert isinstance(select, exp.Select)
    assert [c.name for c in select.expressions] == list(table.column_names)
    assert [p.name for p in select.find(exp.Table).parts] == ["dbo", "Posts"]
    assert [o.this.name for o in select.args["order"].expressions] == ["Id"]
    where = select.args.get("where")
    got = [] if where is None else [(type(c), c.expression.name) for c in where.find_all(exp.Binary)
                                    if isinstance(c, (exp.GT, exp.LTE))]  # fmt: skip
    assert got == ops
    assert all(c.this.name == "Id" for c in ([] if where is None else where.find_all(exp.GT)))


def test_keyset_select_with_a_text_key_is_quoted_by_pymssql():
    t = Table("t", (Column("k", SqlType(Kind.STRING, length=20)),), ("k",), "dbo")
    sql, params = D.select_range_sql(t, "O'Brien", None)
    where = tsql(sql, params).args["where"].this
    assert isinstance(where, exp.GT) and where.expression.name == "O'Brien"


def test_xml_columns_are_read_as_nvarchar_max():
    t = Table(
        "docs",
        (Column("Id", SqlType(Kind.INTEGER)), Column("x", SqlType(Kind.XML)),
         Column("y", SqlType(Kind.STRING))),
        ("Id",), "dbo",
    )  # fmt: skip
    sql, params = D.select_range_sql(t, 1, 9)
    select = tsql(sql, params)
    cast = select.expressions[1]
    assert isinstance(cast, exp.Alias) and cast.alias == "x"
    assert cast.this.to == exp.DataType.build("nvarchar(max)", dialect="tsql")
    assert [e.alias_or_name for e in select.expressions] == ["Id", "x", "y"]


def test_read_range_streams_with_fetchmany_and_asks_the_size_each_time():
    sizes = iter([2, 3, 100, 100])

    class Fetch:
        def __int__(self):
            return next(sizes)

    conn = FakeConn(rows=[(i,) for i in range(6)])
    conn.cursor().fetchall = FakeCursor.fetchall_forbidden
    t = Table("t", (Column("Id", SqlType(Kind.INTEGER)),), ("Id",), "dbo")
    batches = list(D.read_range(conn, t, None, 5, Fetch()))
    assert batches == [[(0,), (1,)], [(2,), (3,), (4,)], [(5,)]]
    assert conn.fetches == [2, 3, 100, 100]
    (sql, params), *_ = conn.log
    assert params == [5] and isinstance(tsql(sql, params), exp.Select)


def test_delete_range_compiles():
    stage = staging_table(D, TABLES["Votes"])
    sql, params = D.delete_range_sql(stage, 100, 200)
    delete = tsql(sql, params)
    assert isinstance(delete, exp.Delete)
    assert [p.name for p in delete.this.parts] == ["dbo", stage.name]
    assert isinstance(delete.args["where"].this, exp.And)
    whole, none = D.delete_range_sql(stage, None, None)
    assert none == [] and tsql(whole).args.get("where") is None


def test_range_probe_compiles_and_reads_without_row_locks():
    stage = staging_table(D, TABLES["Votes"])
    sql, params = D.range_probe_sql(stage, 100, 200)
    probe = tsql(sql, params)
    assert isinstance(probe, exp.Select) and probe.args["limit"] is not None  # TOP (1)
    table = probe.find(exp.Table)
    assert [p.name for p in table.parts] == ["dbo", stage.name]
    assert [h.name for h in table.args["hints"][0].expressions] == ["NOLOCK"]
    assert isinstance(probe.args["where"].this, exp.And)
    assert D.probe_before_delete


# --- publishing ------------------------------------------------------------------------------


def _rename(sql: str) -> list[str]:
    execute = tsql(sql)
    assert isinstance(execute, exp.Execute) and execute.this.name == "sp_rename"
    return [string_literal(a.sql("tsql")) for a in execute.expressions]


def _raiserror_guard(sql: str) -> exp.Expression:
    """`IF <condition> RAISERROR (N'...', 16, 1)`: the condition, parsed by sqlglot."""
    m = re.fullmatch(r"IF (.+) RAISERROR \((N'(?:[^']|'')*'), 16, 1\)", sql, re.S)
    assert m, sql
    assert string_literal(m.group(2)).startswith("sluice: ")
    block = tsql(f"IF {m.group(1)} SELECT 1")
    assert isinstance(block, exp.IfBlock)
    return block.this


@pytest.mark.parametrize("exists", [True, False])
def test_swap_drops_live_and_renames_staging_in_one_go(exists):
    stage, live = staging_table(D, TABLES["Posts"]), so_live("Posts")
    stmts = D.swap_sql(stage, live, exists)
    if exists:
        drop = tsql(stmts.pop(0))
        assert isinstance(drop, exp.Drop) and not drop.args["exists"]
        assert [p.name for p in drop.find(exp.Table).parts] == ["dbo", "Posts"]
    rename, check = stmts
    objname, newname, objtype = _rename(rename)
    assert parts(objname) == ["dbo", "_sluice_stage_Posts"]
    assert (newname, objtype) == ("Posts", "OBJECT")  # the new name is bare, not quoted
    condition = _raiserror_guard(check)
    assert isinstance(condition, exp.Is)
    call = condition.this
    assert isinstance(call, exp.ObjectId)
    assert (call.this.name, call.expression.name) == ("[dbo].[Posts]", "U")


def test_rename_primary_key_and_index():
    live = so_live("Posts")
    stmts = D.rename_constraint_sql(live, "_sluice_pk_PK_Posts__Id", "PK_Posts__Id")
    objname, newname, objtype = _rename(stmts[0])
    assert parts(objname) == ["dbo", "_sluice_pk_PK_Posts__Id"]
    assert (newname, objtype) == ("PK_Posts__Id", "OBJECT")
    assert _raiserror_guard(stmts[1]).this.this.name == "[dbo].[PK_Posts__Id]"
    assert D.rename_constraint_sql(live, "PK_Posts__Id", "PK_Posts__Id") == []

    for final in ("IX_Posts_Owner", Index("IX_Posts_Owner", ("OwnerUserId",))):
        stmts = D.rename_index_sql(live, "_sluice_ix_IX_Posts_Owner", final)
        objname, newname, objtype = _rename(stmts[0])
        assert parts(objname) == ["dbo", "Posts", "_sluice_ix_IX_Posts_Owner"]
        assert (newname, objtype) == ("IX_Posts_Owner", "INDEX")
        prop = _raiserror_guard(stmts[1]).this
        assert prop.name.upper() == "INDEXPROPERTY"
        assert prop.expressions[0].this.name == "[dbo].[Posts]"
        assert prop.expressions[1].name == "IX_Posts_Owner"


def test_rename_quotes_apostrophes_and_brackets():
    t = live_table(D, Table("o'k]", (Column("Id", SqlType(Kind.INTEGER)),), ("Id",)))
    objname, newname, _ = _rename(D.rename_index_sql(t, "tmp", "a'b")[0])
    assert parts(objname) == ["dbo", "o'k]", "tmp"] and newname == "a'b"


def test_referencing_foreign_keys_query_and_drops():
    sql = D.referencing_foreign_keys_sql()
    select = tsql(sql, ["[dbo].[Posts]"])
    assert isinstance(select, exp.Select)
    assert [p.name for p in select.find(exp.Table).parts] == ["sys", "foreign_keys"]
    assert any(isinstance(n, exp.NEQ) for n in select.find_all(exp.NEQ))  # self refs kept
    conn = FakeConn(rows=[("dbo", "Comments", "FK_Comments_PostId"), ("x", "T]", "F'K")])
    stmts = D.drop_referencing_foreign_keys_sql(conn, so_live("Posts"))
    assert conn.log == [(sql, ("[dbo].[Posts]",))]
    for stmt, (schema, table, fk) in zip(stmts, conn.rows):
        alter = tsql(stmt)
        assert isinstance(alter, exp.Alter)
        assert [p.name for p in alter.this.parts] == [schema, table]
        drop = alter.args["actions"][0]
        assert drop.args["kind"] == "CONSTRAINT" and drop.args["tables"][0].name == fk


def test_foreign_key_added_unchecked_then_validated():
    fk = ForeignKey("Comments", ("PostId",), "Posts", ("Id",))
    add, check = D.add_foreign_key_sql(fk, fk.name)
    prefix = "ALTER TABLE [Comments] WITH NOCHECK ADD CONSTRAINT "
    assert add.startswith(prefix)
    alter = tsql(add.replace(" WITH NOCHECK ", " ", 1))  # sqlglot has no WITH NOCHECK
    constraint = alter.find(exp.Constraint)
    assert constraint.name == "FK_Comments_PostId"
    fkey = constraint.find(exp.ForeignKey)
    assert [i.name for i in fkey.expressions] == ["PostId"]
    ref = fkey.args["reference"].this
    assert ref.this.name == "Posts" and [i.name for i in ref.expressions] == ["Id"]
    m = re.fullmatch(r"ALTER TABLE (\S+) WITH CHECK CHECK CONSTRAINT (\S+)", check)
    assert m and parts(m.group(1)) == ["Comments"]
    assert tsql(f"SELECT {m.group(2)}").expressions[0].name == "FK_Comments_PostId"


# --- types -----------------------------------------------------------------------------------

CANONICAL = [
    "bit", "tinyint", "smallint", "int", "bigint", "decimal(18,2)", "decimal(38,0)",
    "decimal(38,38)", "money", "smallmoney", "real", "float", "date", "time(0)", "time(3)",
    "time(7)", "datetime", "datetime2(0)", "datetime2(3)", "datetime2(7)",
    "datetimeoffset(0)", "datetimeoffset(7)", "char(1)", "char(10)", "varchar(50)",
    "varchar(8000)", "varchar(max)", "nchar(5)", "nvarchar(40)", "nvarchar(4000)",
    "nvarchar(max)", "binary(8)", "binary(16)", "varbinary(100)", "varbinary(8000)",
    "varbinary(max)", "uniqueidentifier", "xml",
]  # fmt: skip

NORMALISED = {
    "numeric(9,2)": "decimal(9,2)", "decimal": "decimal(18,0)", "float(24)": "real",
    "float(53)": "float", "double precision": "float", "datetime2": "datetime2(7)",
    "time": "time(7)", "datetimeoffset": "datetimeoffset(7)", "char": "char(1)",
    "varchar": "varchar(1)", "NVARCHAR(40)": "nvarchar(40)", "text": "varchar(max)",
    "ntext": "nvarchar(max)", "image": "varbinary(max)", "smalldatetime": "datetime2(0)",
    "rowversion": "binary(8)", "timestamp": "binary(8)", "sysname": "nvarchar(128)",
}  # fmt: skip


@pytest.mark.parametrize("text", CANONICAL)
def test_every_sql_server_type_round_trips(text):
    assert D.render_type(mt.parse_type(text)) == text
    assert exp.DataType.build(text, dialect="tsql")  # and sqlglot reads the declaration


@pytest.mark.parametrize(("text", "canonical"), NORMALISED.items())
def test_synonyms_and_legacy_types_become_their_canonical_superset(text, canonical):
    assert D.render_type(mt.parse_type(text)) == canonical


@pytest.mark.parametrize("text", ["sql_variant", "geography", "nvarchar(", "int int"])
def test_unknown_types_stop_with_an_error(text):
    with pytest.raises(ConfigError):
        mt.parse_type(text)


@pytest.mark.parametrize(
    ("t", "rendered"),
    [
        (SqlType(Kind.STRING, length=5000), "nvarchar(max)"),
        (SqlType(Kind.STRING, length=5000, fixed=True), "nvarchar(max)"),
        (SqlType(Kind.STRING, length=9000, unicode=False, fixed=True), "varchar(max)"),
        (SqlType(Kind.BINARY, length=9000, fixed=True), "varbinary(max)"),
        (SqlType(Kind.DECIMAL), "decimal(38,18)"),
        (SqlType(Kind.DECIMAL, precision=50, scale=45), "decimal(38,33)"),
        (SqlType(Kind.DECIMAL, precision=65, scale=30), "decimal(38,3)"),
        (SqlType(Kind.DECIMAL, precision=60, scale=0), "decimal(38,0)"),
        (SqlType(Kind.DATETIME, precision=6), "datetime2(6)"),
        (SqlType(Kind.DATETIME_TZ), "datetimeoffset(7)"),
        (SqlType(Kind.TIME, precision=9), "time(7)"),
        (SqlType(Kind.JSON), "nvarchar(max)"),
        (SqlType(Kind.ROWVERSION), "binary(8)"),
    ],
)
def test_neutral_types_from_other_engines_render_to_valid_declarations(t, rendered):
    assert D.render_type(t) == rendered
    assert exp.DataType.build(rendered, dialect="tsql")


def _reflected(type_: str, maxlen: int = 0, precision: int = 0, scale: int = 0):
    """The type SQLAlchemy 2.1's mssql reflection builds from one sys.columns row."""
    info = MSDialect()._parse_column_info(
        name="c", type_=type_, nullable=True, maxlen=maxlen, numericprec=precision,
        numericscale=scale, default=None, collation=None, definition=None,
        is_persisted=None, is_identity=None, identity_start=None, identity_increment=None,
        comment=None,
    )  # fmt: skip
    return info["type"]


@pytest.mark.parametrize(
    ("row", "rendered"),
    [
        (("nvarchar", 80), "nvarchar(40)"), (("nvarchar", -1), "nvarchar(max)"),
        (("varchar", 50), "varchar(50)"), (("varchar", -1), "varchar(max)"),
        (("nchar", 20), "nchar(10)"), (("char", 10), "char(10)"),
        (("text", 16), "varchar(max)"), (("ntext", 16), "nvarchar(max)"),
        (("money", 8, 19, 4), "money"), (("smallmoney", 4, 10, 4), "smallmoney"),
        (("datetime", 8, 23, 3), "datetime"), (("smalldatetime", 4, 16), "datetime2(0)"),
        (("datetime2", 8, 27, 7), "datetime2(7)"),
        (("datetime2", 7, 23, 3), "datetime2(7)"),  # SQLAlchemy drops the scale: widest kept
        (("datetimeoffset", 10, 34, 7), "datetimeoffset(7)"), (("time", 5, 16, 7), "time(7)"),
        (("tinyint", 1, 3), "tinyint"), (("bit", 1, 1), "bit"),
        (("uniqueidentifier", 16), "uniqueidentifier"), (("image", 16), "varbinary(max)"),
        (("varbinary", -1), "varbinary(max)"), (("varbinary", 100), "varbinary(100)"),
        (("binary", 8), "binary(8)"), (("timestamp", 8), "binary(8)"), (("xml", -1), "xml"),
        (("real", 4, 24), "real"), (("float", 8, 53), "float"),
        (("decimal", 9, 18, 2), "decimal(18,2)"), (("numeric", 17, 38, 10), "decimal(38,10)"),
        (("date", 3, 10), "date"), (("int", 4, 10), "int"), (("bigint", 8, 19), "bigint"),
    ],
)  # fmt: skip
def test_reflected_sqlalchemy_types_map_back_to_the_same_declaration(row, rendered):
    t = neutral_type(_reflected(*row), MssqlDialect.reflect_overrides)
    assert t is not None and D.render_type(t) == rendered


@pytest.mark.parametrize(
    ("satype", "expected"),
    [
        (sa_mssql.NVARCHAR(40), SqlType(Kind.STRING, length=40)),
        (sa_mssql.NVARCHAR(), SqlType(Kind.STRING)),
        (sa_mssql.VARCHAR(50), SqlType(Kind.STRING, length=50, unicode=False)),
        (sa_mssql.CHAR(3), SqlType(Kind.STRING, length=3, unicode=False, fixed=True)),
        (sa_mssql.NCHAR(3), SqlType(Kind.STRING, length=3, fixed=True)),
        (sa_mssql.NTEXT(), SqlType(Kind.STRING)),
        (sa_mssql.TEXT(), SqlType(Kind.STRING, unicode=False)),
        (sa_mssql.MONEY(), SqlType(Kind.MONEY)),
        (sa_mssql.SMALLMONEY(), SqlType(Kind.MONEY, precision=10, scale=4)),
        (sa_mssql.DATETIME(), SqlType(Kind.DATETIME)),
        (sa_mssql.SMALLDATETIME(), SqlType(Kind.DATETIME, precision=0)),
        (sa_mssql.DATETIME2(3), SqlType(Kind.DATETIME, precision=3)),
        (sa_mssql.DATETIME2(), SqlType(Kind.DATETIME, precision=7)),
        (sa_mssql.DATETIMEOFFSET(5), SqlType(Kind.DATETIME_TZ, precision=5)),
        (sa_mssql.TIME(2), SqlType(Kind.TIME, precision=2)),
        (sa_mssql.TINYINT(), SqlType(Kind.TINYINT)),
        (sa_mssql.BIT(), SqlType(Kind.BOOLEAN)),
        (sa_mssql.UNIQUEIDENTIFIER(), SqlType(Kind.UUID)),
        (sa_mssql.IMAGE(), SqlType(Kind.BINARY)),
        (sa_mssql.VARBINARY(), SqlType(Kind.BINARY)),
        (sa_mssql.VARBINARY(16), SqlType(Kind.BINARY, length=16)),
        (sa_mssql.BINARY(8), SqlType(Kind.BINARY, length=8, fixed=True)),
        (sa_mssql.ROWVERSION(), SqlType(Kind.ROWVERSION)),
        (sa_mssql.TIMESTAMP(), SqlType(Kind.ROWVERSION)),
        (sa_mssql.XML(), SqlType(Kind.XML)),
        (sa_mssql.REAL(), SqlType(Kind.REAL)),
        (sa_mssql.FLOAT(53), SqlType(Kind.DOUBLE)),
        (sa_mssql.DOUBLE_PRECISION(), SqlType(Kind.DOUBLE)),
    ],
)
def test_reflection_overrides_for_sqlalchemy_mssql_types(satype, expected):
    assert neutral_type(satype, MssqlDialect.reflect_overrides) == expected


def test_sql_variant_is_unmappable():
    assert neutral_type(_reflected("sql_variant", 8016), MssqlDialect.reflect_overrides) is None


@pytest.mark.parametrize(
    ("t", "fidelity"),
    [
        (SqlType(Kind.DATETIME, precision=6), "exact"),  # PostgreSQL timestamp(6)
        (SqlType(Kind.DATETIME), "exact"),  # SQL Server datetime (see docs/sqlserver.md)
        (SqlType(Kind.DATETIME, precision=7), "lossy"),
        (SqlType(Kind.TIME, precision=7), "lossy"),
        (SqlType(Kind.DATETIME_TZ, precision=6), "exact"),
        (SqlType(Kind.STRING, length=4000), "exact"),
        (SqlType(Kind.STRING, length=4001), "widening"),
        (SqlType(Kind.STRING, length=8000, unicode=False), "exact"),
        (SqlType(Kind.STRING), "exact"),
        (SqlType(Kind.BINARY, length=9000), "widening"),
        (SqlType(Kind.BOOLEAN), "exact"),
        (SqlType(Kind.TINYINT), "exact"),
        (SqlType(Kind.MONEY), "exact"),
        (SqlType(Kind.UUID), "exact"),
        (SqlType(Kind.XML), "exact"),
        (SqlType(Kind.JSON), "widening"),
        (SqlType(Kind.ROWVERSION), "widening"),
        (SqlType(Kind.DECIMAL, precision=38, scale=10), "exact"),
        (SqlType(Kind.DECIMAL, precision=20, scale=0), "exact"),  # MySQL BIGINT UNSIGNED
        (SqlType(Kind.DECIMAL, precision=65, scale=30), "lossy"),
        (SqlType(Kind.DECIMAL), "lossy"),
    ],
)
def test_fidelity_as_a_target(t, fidelity):
    got, note = D.fidelity(t)
    assert got == fidelity
    assert (note != "") == (fidelity != "exact")


@pytest.mark.parametrize("source", ["mssql", "postgresql"])
def test_stackoverflow_plan_into_sql_server_is_exact_and_keeps_declarations(source):
    from sluice.copy.plan import plan_tables
    from sluice.datasets.stackoverflow.schema import MSSQL_TYPES

    stats = {name: (1, 100, 100) for name in TABLE_NAMES}
    plan = plan_tables(list(TABLES.values()), stats, source, "mssql", "src", "dst")
    assert plan.lossy() == []
    for tp in plan.tables:
        for c in tp.columns:
            assert c.fidelity == "exact", (tp.name, c)
            assert c.target_type == MSSQL_TYPES[(tp.name, c.name)]  # nvarchar(40) stays


# --- values ----------------------------------------------------------------------------------

UTC = dt.timezone.utc
BIG = "9" * 28 + "." + "9" * 10  # decimal(38,10) at its limit: more than pymssql's 33 digits
PLUS2 = dt.timezone(dt.timedelta(hours=2))
MINUS_0330 = dt.timezone(-dt.timedelta(hours=3, minutes=30))


@pytest.mark.parametrize(
    ("t", "value", "sent"),
    [
        (SqlType(Kind.UUID), uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (SqlType(Kind.DECIMAL, 38, 0), Decimal("1E+2"), "100"),
        (SqlType(Kind.DECIMAL, 38, 10), Decimal("-1E-10"), "-0.0000000001"),
        (SqlType(Kind.DECIMAL, 38, 10), Decimal(BIG), BIG),
        (SqlType(Kind.MONEY), Decimal("-922337203685477.5808"), "-922337203685477.5808"),
        (SqlType(Kind.DATE), dt.date(1, 1, 1), "0001-01-01"),
        (SqlType(Kind.TIME, precision=7), dt.time(23, 59, 59, 999999), "23:59:59.999999"),
        (SqlType(Kind.DATETIME, precision=7), dt.datetime(2010, 1, 2, 3, 4, 5, 6),
         "2010-01-02 03:04:05.000006"),
        (SqlType(Kind.DATETIME), dt.datetime(2010, 1, 2, 3, 4, 5, 6667), "2010-01-02 03:04:05.007"),
        (SqlType(Kind.DATETIME), dt.datetime(2010, 1, 2, 3, 4, 5, 3333), "2010-01-02 03:04:05.003"),
        (SqlType(Kind.DATETIME), dt.datetime(2010, 12, 31, 23, 59, 59, 999600),
         "2011-01-01 00:00:00.000"),
        (SqlType(Kind.DATETIME_TZ), dt.datetime(2010, 1, 2, 3, 4, 5, 6, tzinfo=PLUS2),
         "2010-01-02 03:04:05.000006 +02:00"),
        (SqlType(Kind.DATETIME_TZ), dt.datetime(2010, 1, 2, 3, 4, 5, tzinfo=MINUS_0330),
         "2010-01-02 03:04:05.000000 -03:30"),
        (SqlType(Kind.DATETIME_TZ), dt.datetime(2010, 1, 2, 3, 4, 5, tzinfo=UTC),
         "2010-01-02 03:04:05.000000"),
        (SqlType(Kind.DATETIME_TZ),
         dt.datetime(2010, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(seconds=561))),
         "2010-01-02 02:54:44.000000"),  # offsets with seconds: same instant, in UTC
        (SqlType(Kind.JSON), {"a": [1, "é"]}, '{"a": [1, "é"]}'),
        (SqlType(Kind.JSON), '{"already": "text"}', '{"already": "text"}'),
    ],
)  # fmt: skip
def test_encoders_send_what_pymssql_and_the_server_parse_exactly(t, value, sent):
    f = mt.encoder(t)
    assert f(value) == sent
    assert f(f(value)) == sent  # idempotent: bulk_load may see encoded rows again
    assert _mssql.py2db_type(type(sent), sent)  # pymssql's bulk copy knows the type


@pytest.mark.parametrize(
    "kind", [Kind.BOOLEAN, Kind.INTEGER, Kind.BIGINT, Kind.DOUBLE, Kind.STRING, Kind.BINARY]
)
def test_values_pymssql_sends_as_they_are_get_no_encoder(kind):
    assert mt.encoder(SqlType(kind)) is None


def test_pymssql_bulk_copy_cannot_send_a_uuid_itself():
    with pytest.raises(_mssql.MSSQLDriverException):
        _mssql.py2db_type(uuid.UUID, uuid.uuid4())


def test_insert_literals_are_unambiguous():
    fix = mt.row_encoder(
        Table("t", (Column("b", SqlType(Kind.BINARY)), Column("d", SqlType(Kind.DATETIME)),
                    Column("z", SqlType(Kind.DATETIME_TZ)), Column("u", SqlType(Kind.UUID)))),
        literal=True,
    )  # fmt: skip
    when = dt.datetime(1700, 5, 6, 7, 8, 9, 9500)  # rounded to .010 (legacy datetime)
    row = fix((b"abc", when, dt.datetime(2010, 1, 1, tzinfo=PLUS2), uuid.UUID(int=5)))
    sql = _mssql.substitute_params("SELECT %s, %s, %s, %s", row).decode()
    # ASCII bytes would be quoted as a varchar '...' (no implicit cast to varbinary)
    assert _mssql.quote_simple_value(b"abc") == b"'abc'"
    assert sql == (
        "SELECT 0x616263, N'1700-05-06T07:08:09.010', N'2010-01-01T00:00:00.000000+02:00', "
        "N'00000000-0000-0000-0000-000000000005'"
    )
    assert isinstance(tsql(sql), exp.Select)


def test_encode_and_decode_converters_line_up_with_columns():
    table = TABLES["PostHistory"]
    enc = D.encode_converters(table)
    assert len(enc) == len(table.columns)
    assert [table.columns[i].name for i, f in enumerate(enc) if f] == [
        "RevisionGUID",
        "CreationDate",
    ]
    assert D.decode_converters(table) == [None] * len(table.columns)


# --- writing ---------------------------------------------------------------------------------

MIXED = Table(
    "mixed",
    (Column("Id", SqlType(Kind.INTEGER), False, identity=True), Column("s", SqlType(Kind.STRING)),
     Column("b", SqlType(Kind.BINARY)), Column("d", SqlType(Kind.DATE)),
     Column("z", SqlType(Kind.DATETIME_TZ)), Column("g", SqlType(Kind.UUID)),
     Column("m", SqlType(Kind.DECIMAL, 38, 4))),
    ("Id",), "dbo",
)  # fmt: skip


def _inserted(conn) -> list[tuple]:
    rows = []
    for sql, params in conn.log:
        insert = tsql(sql, params)
        assert isinstance(insert, exp.Insert)
        assert [i.name for i in insert.this.expressions] == list(MIXED.column_names)
        for tup in insert.expression.expressions:
            rows.append(tuple(tup.expressions))
    return rows


def test_bulk_load_sends_faithful_rows_by_bcp_and_the_rest_by_insert():
    g = uuid.UUID(int=7)
    rows = [
        (1, "a", b"x", dt.date(2010, 1, 1), None, g, Decimal("1.5")),
        (2, "", b"x", None, None, None, None),  # '' would be bound as NULL
        (3, "c", b"", None, None, None, None),  # so would b''
        (4, "d", None, dt.date(1600, 1, 1), None, None, None),  # FreeTDS drops the year
        (5, "e", None, None, dt.datetime(2010, 1, 1, tzinfo=PLUS2), None, None),  # offset
        (6, "f", None, None, dt.datetime(2010, 1, 1, tzinfo=UTC), None, None),
    ]
    conn = FakeConn()
    assert D.bulk_load(conn, MIXED, iter(rows)) == 6
    (name, sent, kw), = conn.bulk  # fmt: skip
    assert name == "[dbo].[mixed]" and kw["batch_size"] == mssql_driver.BCP_BATCH_ROWS
    assert "tablock" not in kw
    assert [r[0] for r in sent] == [1, 6]
    assert sent[0] == (1, "a", b"x", "2010-01-01", None, str(g), "1.5")
    assert sent[1][4] == "2010-01-01 00:00:00.000000"
    inserted = _inserted(conn)
    assert [int(r[0].name) for r in inserted] == [2, 3, 4, 5]
    assert inserted[0][1].sql("tsql") == "N''"
    empty = [p for _, params in conn.log for p in params if isinstance(p, bytearray) and not p]
    assert [_mssql.quote_simple_value(p) for p in empty] == [b"0x"]  # empty varbinary, not NULL
    assert inserted[2][3].name == "1600-01-01"
    assert inserted[3][4].name == "2010-01-01T00:00:00.000000+02:00"


def test_bulk_load_holds_back_a_bounded_number_of_rows(monkeypatch):
    monkeypatch.setattr(mssql_driver, "HELD_ROWS", 3)
    rows = [(i, "" if i % 2 else "x", None, None, None, None, None) for i in range(1, 12)]
    conn = FakeConn()
    assert D.bulk_load(conn, MIXED, iter(rows)) == 11
    assert sum(len(b[1]) for b in conn.bulk) == 5
    assert len(conn.bulk) == 2  # one bulk copy per segment between flushes
    assert sorted(int(r[0].name) for r in _inserted(conn)) == [1, 3, 5, 7, 9, 11]


def test_bulk_load_of_nothing_sends_nothing():
    conn = FakeConn()
    assert D.bulk_load(conn, MIXED, iter([])) == 0
    assert conn.bulk == [] and conn.log == []


def test_bulk_load_accepts_canonical_rows_from_the_dataset_loader():
    from sluice.datasets.stackoverflow.generate import Generator

    table = TABLES["PostHistory"]
    rows = list(Generator(0.001).rows("PostHistory"))[:50]
    conn = FakeConn()
    assert D.bulk_load(conn, table, iter(rows)) == 50
    sent = conn.bulk[0][1]
    for value in sent[0]:
        if value is not None:
            _mssql.py2db_type(type(value), value)  # every value is one pymssql can bind
    assert isinstance(sent[0][3], str) and uuid.UUID(sent[0][3]) == rows[0][3]


def test_xml_tables_use_the_insert_path():
    t = Table("x", (Column("Id", SqlType(Kind.INTEGER)), Column("doc", SqlType(Kind.XML))),
              ("Id",), "dbo")  # fmt: skip
    conn = FakeConn()
    assert D.bulk_load(conn, t, iter([(1, "<a/>")])) == 1
    assert conn.bulk == [] and isinstance(tsql(*conn.log[0]), exp.Insert)


@pytest.mark.parametrize(("width", "per_statement"), [(1, 1000), (7, 300), (20, 105), (300, 7)])
def test_insert_path_respects_2100_values_and_1000_rows(width, per_statement):
    t = Table("w", tuple(Column(f"c{i}", SqlType(Kind.INTEGER)) for i in range(width)), (), "dbo")
    conn = FakeConn()
    n = per_statement * 2 + 1
    assert D.insert_rows(conn, t, iter([tuple(range(width))] * n)) == n
    sizes = [len(params) // width for _, params in conn.log]
    assert sizes == [per_statement, per_statement, 1]
    assert all(len(params) <= 2100 for _, params in conn.log)
    sql, params = conn.log[0]
    assert len(tsql(sql, params).expression.expressions) == per_statement


# --- errors and the connection adapter -------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "message", "kind"),
    [
        (1205, b"Deadlocked. DB-Lib error message 20018, severity 13", TransientError),
        (1222, b"Lock request time out period exceeded. severity 16", TerminalError),
        (40501, b"The service is currently busy.", TransientError),
        (40613, b"Database is not currently available.", TransientError),
        (10054, b"connection forcibly closed", TransientError),
        (10060, b"connection timed out", TransientError),
        (20009, b"DB-Lib error message 20009, severity 9: Unable to connect", TransientError),
        (20047, b"DBPROCESS is dead or not enabled", TransientError),
        (824, b"I/O error. DB-Lib error message 20018, severity 24", TransientError),
        (2627, b"Violation of PRIMARY KEY. severity 14", TerminalError),
        (208, b"Invalid object name. severity 16", TerminalError),
        (18456, b"Login failed. severity 14", TerminalError),
    ],
)  # fmt: skip
def test_classify_pymssql_errors(number, message, kind):
    assert D.classify_error(pymssql.OperationalError(number, message)) is kind
    raw = _mssql.MSSQLDatabaseException((number, message))
    assert D.classify_error(raw) is kind
    try:
        try:
            raise raw
        except _mssql.MSSQLDatabaseException as e:
            raise pymssql.OperationalError(*e.args[0])  # noqa: B904 - as pymssql chains it
    except pymssql.OperationalError as wrapped:
        assert D.classify_error(wrapped) is kind


def test_classify_other_errors():
    assert D.classify_error(ConnectionResetError(104, "reset")) is TransientError
    assert D.classify_error(_mssql.MSSQLDriverException("Unable to determine")) is TerminalError
    assert D.classify_error(ValueError("bad")) is TerminalError


class RawCursor:
    def __init__(self, number):
        self.number = number
        self.rowcount = 7

    def execute(self, sql, *params):
        raise pymssql.OperationalError(self.number, b"Caution: Changing any part of an object")


def test_cursor_adapter_lets_only_sp_renames_caution_pass():
    ok = mssql_driver.Cursor(RawCursor(15477))
    ok.execute("EXEC sp_rename N'a', N'b', N'OBJECT'")
    assert ok.rowcount == 7
    with pytest.raises(pymssql.OperationalError):
        mssql_driver.Cursor(RawCursor(208)).execute("SELECT 1 FROM nowhere")


def test_missing_server_is_a_connect_error_with_the_password_masked():
    from sluice.core.errors import ConnectError
    from sluice.core.urls import DbUrl

    url = DbUrl.parse("mssql+pymssql://sa:S3cret!pw@127.0.0.1:1/master")
    with pytest.raises(ConnectError) as info:
        D.connect(url)
    assert "S3cret!pw" not in str(info.value)


def test_capabilities():
    assert D.caps.max_bind_parameters == 2100
    assert D.caps.default_schema == "dbo" and D.caps.key_after_load
    assert D.sqlalchemy_driver == "mssql+pymssql"
    assert D.url_schema(None) == "dbo"


# --- the stages, end to end, against a recording connection ----------------------------------


class StageConn(FakeConn):
    """Answers the few queries publish/finish read back: counts, maxima, a unique index on Id
    (Posts' key to Users can be made in the swap), Posts' key present unchecked (finish
    checks it)."""

    def cursor(self):
        cur = FakeCursor(self)
        cur.fetchone = lambda: (41,)
        cur.fetchall = lambda: self.answer(self.log[-1][0])
        return cur

    def answer(self, sql: str) -> list[tuple]:
        if "FROM sys.indexes" in sql:
            return [(1, "Id")]
        if "FROM sys.foreign_keys WHERE parent_object_id" in sql:
            return [("FK_Posts_OwnerUserId", 1)]
        return []

    def commit(self):
        self.log.append(("COMMIT", None))

    def rollback(self):
        self.log.append(("ROLLBACK", None))

    def close(self):
        pass


def compiles(sql: str, params=None) -> str:
    """Compile one statement the way the tests above do; returns what kind it is."""
    if sql in ("COMMIT", "ROLLBACK"):
        return sql
    if sql.startswith(("SAVE TRANSACTION ", "ROLLBACK TRANSACTION ")):
        assert re.fullmatch(r"(SAVE|ROLLBACK) TRANSACTION \w+", sql)  # sqlglot lacks them
        return "savepoint"
    if sql.startswith("SET IDENTITY_INSERT "):
        assert re.fullmatch(r"SET IDENTITY_INSERT \S+ (ON|OFF)", sql)
        return "identity_insert"
    if "DBCC CHECKIDENT" in sql:
        assert sql.count("DBCC CHECKIDENT") == 2 and sql.startswith("IF EXISTS (SELECT 1 FROM")
        return "checkident"
    if " RAISERROR (" in sql:
        _raiserror_guard(sql)
        return "guard"
    if " WITH NOCHECK ADD CONSTRAINT " in sql:
        assert isinstance(tsql(sql.replace(" WITH NOCHECK ", " ", 1)), exp.Alter)
        return "fk_add"
    if " WITH CHECK CHECK CONSTRAINT " in sql:
        return "fk_check"
    parsed = tsql(sql, params)
    assert not isinstance(parsed, exp.Command), sql
    return type(parsed).__name__


def test_publish_and_finish_issue_only_compiling_statements(monkeypatch):
    from sluice.copy.finish import finish
    from sluice.copy.plan import plan_tables
    from sluice.copy.publish import prepare, publish_table
    from sluice.core.urls import DbUrl

    posts = replace(TABLES["Posts"], indexes=(Index("IX_Posts_Owner", ("OwnerUserId",)),))
    users = TABLES["Users"]
    fk = ForeignKey("Posts", ("OwnerUserId",), "Users", ("Id",))
    posts = replace(posts, foreign_keys=(fk,))  # declared, so finish adds it
    plan = plan_tables([users, posts], {"Users": (1, 9, 9), "Posts": (1, 9, 9)}, "mssql",
                       "mssql", "src", "dst")  # fmt: skip
    conn = StageConn()
    monkeypatch.setattr(D, "connect", lambda url, **kw: conn)
    monkeypatch.setattr(D, "ensure_database", lambda url: False)
    target = DbUrl.parse("mssql+pymssql://sa@db/so")
    prepare(plan, target)
    publish_table(plan, "Users", target)
    publish_table(plan, "Posts", target)
    result = finish(plan, target)
    assert result.identities == {"Users": 42, "Posts": 42} and result.orphans == {fk.name: 0}
    kinds = [compiles(sql, params) for sql, params in conn.log]
    assert kinds.count("Execute") == 2 + 2 + 1  # two tables, two keys, one index renamed
    # identities: on each staging table before its rename, and again by finish
    assert kinds.count("guard") == 5 and kinds.count("checkident") == 2 + 2
    # the key is added unchecked in each swap (the recording target has both tables, Users a
    # key on Id: Users' swap adds it from the live Posts, Posts' swap with its new table),
    # checked once by finish
    assert kinds.count("fk_add") == 2 and kinds.count("fk_check") == 1
    add = max(i for i, k in enumerate(kinds) if k == "fk_add")
    swap = max(i for i, (sql, _) in enumerate(conn.log) if "N'Posts', N'OBJECT'" in sql)
    commits = [i for i, k in enumerate(kinds) if k == "COMMIT"]
    assert swap < add < min(c for c in commits if c > swap)  # in the swap's transaction
    checkident = [i for i, k in enumerate(kinds) if k == "checkident"]
    assert "_sluice_stage_" in conn.log[checkident[0]][0]  # aligned before the rename
    renames = [_rename(sql) for sql, _ in conn.log if sql.startswith("EXEC sp_rename")]
    assert ["IX_Posts_Owner", "INDEX"] in [r[1:] for r in renames]
    assert ["Posts", "OBJECT"] in [r[1:] for r in renames]


def test_temporal_precision_comes_from_the_catalog():
    """SQLAlchemy drops datetime2(n)'s n; sys.columns.scale restores it (query compiles)."""
    import sqlglot

    from sluice.core.schema import Column
    from sluice.core.types import Kind, SqlType
    from sluice.dialects.mssql import PRECISION_SQL, apply_scales

    parsed = sqlglot.parse_one(PRECISION_SQL.replace(":obj", "'[dbo].[t]'"), read="tsql")
    assert parsed.key == "select"
    cols = [
        Column("a", SqlType(Kind.DATETIME, precision=7)),
        Column("b", SqlType(Kind.TIME, precision=7)),
        Column("c", SqlType(Kind.DATETIME)),  # legacy datetime: no scale row
        Column("d", SqlType(Kind.INTEGER)),
    ]
    got = apply_scales(cols, {"a": 3, "b": 0})
    assert [c.type.precision for c in got] == [3, 0, None, None]
    pg = get_dialect("postgresql")
    assert pg.fidelity(got[0].type)[0] == "exact" and pg.render_type(got[0].type) == "TIMESTAMP(3)"


def test_relation_size_query_compiles_and_names_the_table_in_one_string():
    sql, params = D.relation_bytes_sql(so_live("Posts"))
    select = tsql(D.finalize(sql), D.bind(params))
    assert isinstance(select, exp.Select)
    (arg,) = list(select.find_all(exp.ObjectId))
    assert isinstance(arg.this, exp.National) and parts(arg.this.name) == ["dbo", "Posts"]
    assert select.find(exp.Table).name == "dm_db_partition_stats"


def test_row_estimate_query_compiles_and_reads_the_kept_row_counts():
    sql, params = D.row_estimate_sql(so_live("Votes"))
    select = tsql(D.finalize(sql), D.bind(params))
    assert isinstance(select, exp.Select)
    (arg,) = list(select.find_all(exp.ObjectId))
    assert isinstance(arg.this, exp.National) and parts(arg.this.name) == ["dbo", "Votes"]
    assert select.find(exp.Table).name == "dm_db_partition_stats"
    assert select.find(exp.Sum).this.name == "row_count"


# --- incremental sync -------------------------------------------------------------------------


def test_sync_statements_compile():
    from sluice.copy.staging import sync_staging_table
    from sluice.sync import apply_sql
    from sluice.sync.deletes import summary_sql

    posts = so_live("Posts")  # an identity: MERGE between IDENTITY_INSERT ON and OFF
    stage = sync_staging_table(D, TABLES["Posts"])
    on, merge, off = D.upsert_sql(posts, stage)
    assert compiles(on) == compiles(off) == "identity_insert" and on.endswith(" ON")
    parsed = tsql(merge.rstrip(";"))
    assert isinstance(parsed, exp.Merge)
    assert [p.name for p in parsed.this.parts] == ["dbo", "Posts"]
    assert [p.name for p in parsed.args["using"].parts] == ["dbo", stage.name]
    assert merge.count("WHEN MATCHED THEN UPDATE SET") == 1 and "t.[Id] = s.[Id]" in merge
    assert "t.[Id] = s.[Id]," not in merge  # the key is never updated
    prune, new_rows = apply_sql(D, posts, stage)
    assert compiles(prune) == "Delete" and compiles(new_rows) == "Select"
    assert prune.count(" OR (") == len(posts.columns) - 1  # NULL-safe per non-key column
    assert compiles(summary_sql(D, posts, "Id"), [0, 10]) == "Select"
    assert "DECIMAL(38, 0)" in summary_sql(D, posts, "Id")  # SUM(int) would overflow
    assert compiles(D.rowversion_ceiling_sql()) == "Select"
    widened = replace(posts, columns=tuple(
        replace(c, type=SqlType(Kind.STRING, length=500)) if c.name == "Title" else c
        for c in posts.columns))  # fmt: skip
    (alter,) = D.alter_column_type_sql(widened, "Title")
    assert compiles(alter) == "Alter" and alter.endswith("[Title] nvarchar(500) NULL")
    (add,) = D.add_column_sql(widened, "Title")
    assert compiles(add) == "Alter"


def test_vote_types_upsert_without_identity_columns_is_one_merge():
    plain = replace(so_live("Tags"), columns=tuple(
        replace(c, identity=False) for c in so_live("Tags").columns))  # fmt: skip
    (merge,) = D.upsert_sql(plain, plain)
    assert isinstance(tsql(merge.rstrip(";")), exp.Merge)
