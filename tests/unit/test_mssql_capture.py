"""SQL Server change capture (Change Tracking) without a server: every statement the capture
generates is compiled by sqlglot's T-SQL parser and checked for kind and identifiers, for a
plain, a schema-qualified, a bracket-needing and a composite-key table; the decisions made
from the server's answers (what to tell a user, how rows become changes) are checked on
answers written here. Never run against a live server here (tests/capture has that test).

sqlglot (30.x) cannot parse CHANGETABLE(CHANGES ...) nor ALTER DATABASE/ALTER TABLE ...
CHANGE_TRACKING: for those the exact form is checked and every identifier inside parsed
separately; the rest of the changes query (the join, the row read) is compiled whole.
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from sluice.core.changes import Change, Commit
from sluice.core.errors import ConfigError
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.dialects import mssql_capture as mc
from sluice.dialects import mssql_cdc as mcdc
from sluice.dialects.mssql import MssqlDialect

D: MssqlDialect = get_dialect("mssql")
INT, TEXT, XML = SqlType(Kind.INTEGER), SqlType(Kind.STRING), SqlType(Kind.XML)

PLAIN = Table("posts", (Column("id", INT, False), Column("body", TEXT)), ("id",))
QUALIFIED = Table("orders", (Column("id", INT, False), Column("doc", XML)), ("id",), "sales")
ODD = Table(
    "odd ]name 50%",
    (Column("k]ey", INT, False), Column("it's", TEXT), Column("50% off", TEXT)),
    ("k]ey",),
    schema="we]ird",
    where="[50% off] <> N'x'",
)
COMPOSITE = Table(
    "lines",
    (Column("qty", INT), Column("order_id", INT, False), Column("line_no", INT, False)),
    ("order_id", "line_no"),
)
TABLES = [PLAIN, QUALIFIED, ODD, COMPOSITE]
IDS = ["plain", "qualified", "brackets", "composite"]


def tsql(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="tsql")


def parts(qualified: str) -> list[str]:
    return [p.name for p in tsql(f"SELECT 1 FROM {qualified}").find(exp.Table).parts]


def where_of(t: Table) -> list[str]:
    return [t.schema or "dbo", t.name]


def national(sql_literal: str) -> str:
    lit = tsql(f"SELECT {sql_literal}").expressions[0]
    assert isinstance(lit, exp.National), sql_literal
    return lit.name


def column_of(e: exp.Expression) -> tuple[str, str]:
    assert isinstance(e, exp.Column), e
    return e.table, e.name


# --- the changes query -----------------------------------------------------------------------

CHANGETABLE = re.compile(r"CHANGETABLE\(CHANGES (?P<name>.+), (?P<version>[0-9]+)\) AS \[ct\]")


@pytest.mark.parametrize("table", TABLES, ids=IDS)
def test_changes_query_compiles_and_reads_rows_as_the_copy_does(table):
    sql = D.changes_sql(table, 42)
    clause = D.changetable_sql(table, 42)
    found = CHANGETABLE.fullmatch(clause)
    assert found and sql.count(clause) == 1
    assert parts(found["name"]) == where_of(table) and found["version"] == "42"
    # the rest compiles whole once CHANGETABLE(...) stands as a plain table
    select = tsql(sql.replace(clause, f"{found['name']} AS [ct]"))
    assert isinstance(select, exp.Select)
    key, width = table.primary_key, len(table.primary_key)
    cols = select.expressions
    assert [column_of(c) for c in cols[:width]] == [("ct", k) for k in key]
    flag = cols[width]
    assert isinstance(flag, exp.Case)
    assert column_of(flag.find(exp.Is).this) == ("s", key[0])
    assert [column_of(c) for c in cols[width + 1 :]] == [("s", n) for n in table.column_names]
    join = select.args["joins"][0]
    assert join.side == "LEFT" and join.this.alias == "s"
    pairs = [
        sorted([column_of(eq.this), column_of(eq.expression)])
        for eq in join.args["on"].find_all(exp.EQ)
    ]
    assert pairs == [[("ct", k), ("s", k)] for k in key]
    # the joined rows are read by the very query a copy reads ranges with (xml cast, --where)
    rows, params = D.select_range_sql(table, None, None, ordered=False)
    assert params == [] and join.this.this == tsql(rows)
    assert select.args.get("order") is None  # keys are distinct: no sort needed


def test_changes_query_version_is_an_integer_literal():
    # CHANGETABLE takes no expression for the version: it is rendered, never bound
    assert D.changetable_sql(PLAIN, 7) == "CHANGETABLE(CHANGES [dbo].[posts], 7) AS [ct]"
    with pytest.raises(ValueError):
        D.changetable_sql(PLAIN, "7; DROP TABLE x")


def test_xml_column_is_read_as_text_in_the_copy_and_in_the_log():
    rows, _ = D.select_range_sql(QUALIFIED, None, None, ordered=False)
    assert rows == "SELECT [id], CAST([doc] AS nvarchar(max)) AS [doc] FROM [sales].[orders]"
    assert rows in D.changes_sql(QUALIFIED, 0)


# --- metadata queries ------------------------------------------------------------------------


def test_tracking_state_query_compiles_and_fills_the_state():
    select = tsql(mc.TRACKING_STATE_SQL)
    assert isinstance(select, exp.Select)
    assert len(select.expressions) == len(mc.TrackingState._fields)
    names = {".".join(p.name for p in t.parts) for t in select.find_all(exp.Table)}
    assert names == {"sys.databases", "sys.change_tracking_databases", "sys.change_tracking_tables"}
    functions = {f.name.upper() for f in select.find_all(exp.Anonymous)}
    assert {"CHANGE_TRACKING_CURRENT_VERSION", "CHANGE_TRACKING_MIN_VALID_VERSION"} <= functions


@pytest.mark.parametrize("sql_of", [D.table_checks_sql, D.min_valid_sql], ids=["checks", "valid"])
def test_per_table_queries_compile_and_name_each_table(sql_of):
    select = tsql(sql_of(TABLES))
    assert isinstance(select, exp.Select)
    values = select.find(exp.Values)
    assert values.alias == "v" and [c.name for c in values.args["alias"].columns] == ["n", "name"]
    rows = [row.expressions for row in values.expressions]
    assert [int(n.name) for n, _ in rows] == list(range(len(TABLES)))
    # each name is a literal that OBJECT_ID reads back as the table's two parts
    assert [parts(national(name.sql("tsql"))) for _, name in rows] == [where_of(t) for t in TABLES]
    assert [o.this.name for o in select.args["order"].expressions] == ["n"]


def test_table_checks_ask_for_both_permissions():
    select = tsql(D.table_checks_sql([PLAIN]))
    perms = [f for f in select.find_all(exp.Anonymous) if f.name.upper() == "HAS_PERMS_BY_NAME"]
    assert sorted(f.expressions[2].name for f in perms) == ["SELECT", "VIEW CHANGE TRACKING"]


# --- the statements a user is told to run ----------------------------------------------------


@pytest.mark.parametrize("database", ["so2010", "we]ird db"])
def test_database_statements_have_their_exact_form(database):
    on = D.enable_tracking_sql(database)
    found = re.fullmatch(
        r"ALTER DATABASE (\[.+\]) SET CHANGE_TRACKING = ON "
        r"\(CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON\)",
        on,
    )
    assert found and parts(found[1]) == [database]
    found = re.fullmatch(
        r"ALTER DATABASE (\[.+\]) SET ALLOW_SNAPSHOT_ISOLATION ON", D.allow_snapshot_sql(database)
    )
    assert found and parts(found[1]) == [database]


@pytest.mark.parametrize("table", TABLES, ids=IDS)
def test_table_statements_have_their_exact_form(table):
    found = re.fullmatch(r"ALTER TABLE (.+) ENABLE CHANGE_TRACKING", D.track_table_sql(table))
    assert found and parts(found[1]) == where_of(table)
    grant = tsql(D.grant_sql(table, "sync]er"))
    assert isinstance(grant, exp.Grant)
    assert [p.this.name for p in grant.args["privileges"]] == ["SELECT", "VIEW CHANGE TRACKING"]
    assert [p.name for p in grant.args["securable"].parts] == where_of(table)
    assert [p.this.name for p in grant.args["principals"]] == ["sync]er"]


def test_snapshot_statement_has_its_exact_form():
    assert re.fullmatch(r"SET TRANSACTION ISOLATION LEVEL SNAPSHOT", mc.SNAPSHOT_SQL)


# --- what capture_start tells the user -------------------------------------------------------


def state(**kw) -> mc.TrackingState:
    base = dict(database="so", user="syncer", snapshot_state=1, cdc=False, current=7,
                tracking=True,
                retention=2, retention_units="DAYS", auto_cleanup=True, tracked_tables=4,
                oldest_valid=3)  # fmt: skip
    return mc.TrackingState(**{**base, **kw})


ALL_GOOD = [(1, 1, 1, 1)] * 4


def test_nothing_to_say_when_everything_is_allowed():
    assert D.start_problems(state(), TABLES, ALL_GOOD) == []


def test_database_without_tracking_or_snapshot_is_told_what_to_run():
    problems = D.start_problems(state(tracking=False, snapshot_state=0, current=None), TABLES,
                                [(1, 0, 1, 1)] * 4)  # fmt: skip
    text = "; ".join(problems)
    assert D.enable_tracking_sql("so") in text and D.allow_snapshot_sql("so") in text
    for t in TABLES:  # every table's statement, all at once
        assert D.track_table_sql(t) in text


def test_each_table_problem_names_the_table_and_its_statement():
    keyless = Table("heap", (Column("a", INT),))
    checks = [(1, 0, 1, 1), (0, 0, 0, 0), (1, 1, 1, 0), (1, 1, 1, 1)]
    problems = D.start_problems(state(), [PLAIN, QUALIFIED, keyless, ODD, COMPOSITE], checks)
    text = "; ".join(problems)
    assert f"Change Tracking is off for [dbo].[posts]: run {D.track_table_sql(PLAIN)}" in text
    assert "table [sales].[orders] does not exist" in text
    assert "table [dbo].[heap] has no primary key" in text
    assert D.grant_sql(ODD, "syncer") in text and "[we]]ird].[odd ]]name 50%]" in text
    assert "lines" not in text


def test_permissions_the_server_cannot_tell_are_not_reported():
    # HAS_PERMS_BY_NAME answers NULL for a permission name it does not know
    assert D.start_problems(state(), [PLAIN], [(1, 1, None, None)]) == []
    assert D.start_problems(state(), [PLAIN], [(1, 1, 1, 0)]) == [
        f"[syncer] may not read the changes of [dbo].[posts]: run {D.grant_sql(PLAIN, 'syncer')}"
    ]


def test_capture_start_refuses_with_every_problem():
    """Through capture_start itself, on a recorded server's answers."""
    server = Server(state_row(tracking=False), checks=[(0, 1, 0, 1, 1)])
    d = recording(server)
    with pytest.raises(ConfigError) as err:
        d.capture_start(URL, "replica", [PLAIN])
    assert D.enable_tracking_sql("so") in str(err.value)
    assert server.log[0] == mc.TRACKING_STATE_SQL and server.closed


def test_capture_start_returns_the_current_version():
    server = Server(state_row(current=1234), checks=[(0, 1, 1, 1, 1), (1, 1, 1, 1, 1)])
    assert recording(server).capture_start(URL, "replica", [PLAIN, COMPOSITE]) == "1234"
    assert server.log[1] == D.table_checks_sql([PLAIN, COMPOSITE])


# --- positions -------------------------------------------------------------------------------


def test_positions_order_as_numbers():
    versions = ["10", "9", "0", "123456789012"]
    assert sorted(versions, key=D.position_order) == ["0", "9", "10", "123456789012"]


@pytest.mark.parametrize("bad", ["", "0/16B3748", "-1", "1.5", " 7", "mysql-bin.000001:4"])
def test_a_position_of_another_kind_is_refused(bad):
    with pytest.raises(ConfigError, match="not a SQL Server Change Tracking version"):
        D.position_order(bad)


def test_stop_and_confirm_hold_nothing():
    # no connection is made: an unreachable URL is fine
    url = DbUrl.parse("mssql+pymssql://u@127.0.0.1:1/none")
    assert D.capture_stop(url, "replica") is False
    assert D.capture_confirm(url, "replica", "12") is None


# --- capture_changes on a recorded server ----------------------------------------------------

URL = DbUrl.parse("mssql+pymssql://syncer@db.invalid:1433/so")


def state_row(**kw) -> tuple:
    return tuple(state(**kw))


class Server:
    """The answers a server would give, in order; `log` records what was sent."""

    def __init__(self, state=(), checks=(), valid=(), changes=None, **cdc):
        self.state, self.checks, self.valid = state, list(checks), list(valid)
        self.changes = dict(changes or {})
        self.instances, self.max_lsn = cdc.get("instances", []), cdc.get("max_lsn")
        self.increment, self.cdc_on = cdc.get("increment"), cdc.get("cdc_on", True)
        self.log, self.rows, self.closed = [], [], False

    def cursor(self):
        return self

    def execute(self, sql, *params):
        assert not params  # nothing is bound: names and versions are rendered
        self.log.append(sql)
        if sql == mc.TRACKING_STATE_SQL:
            self.rows = [self.state]
        elif "HAS_PERMS_BY_NAME" in sql:
            self.rows = self.checks
        elif "CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID" in sql:
            self.rows = self.valid
        elif sql.startswith("SELECT [ct]") or "fn_cdc_get_all_changes" in sql:
            self.rows = next(v for k, v in self.changes.items() if k in sql)
        elif "cdc.change_tables" in sql:
            self.rows = self.instances
        elif sql == mcdc.CDC_ENABLED_SQL:
            self.rows = [(self.cdc_on,)]
        elif sql == mcdc.MAX_LSN_SQL:
            self.rows = [(self.max_lsn,)]
        elif "fn_cdc_increment_lsn" in sql:
            self.rows = [(self.increment,)]
        else:
            self.rows = []

    def fetchone(self):
        return self.rows[0]

    def fetchall(self):
        return list(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def rollback(self):
        self.log.append("ROLLBACK")

    def close(self):
        self.closed = True


def recording(*servers: Server) -> MssqlDialect:
    """A dialect whose connections are `servers`, one per connect, in order."""
    d, left = MssqlDialect(), list(servers)
    d.connect = lambda url, **kw: left.pop(0)
    return d


def test_changes_are_read_in_one_snapshot_after_the_version():
    server = Server(
        state_row(current=50),
        valid=[(0, 3), (1, 10)],
        changes={
            "[dbo].[posts]": [(1, 1, 1, "new"), (2, 0, None, None)],
            "[dbo].[lines]": [(7, 2, 1, 5, 7, 2)],
        },
    )
    out = list(recording(server).capture_changes(URL, "replica", [PLAIN, COMPOSITE], "20", 10))
    assert out == [
        Change("posts", "upsert", (1,), {"id": 1, "body": "new"}),
        Change("posts", "delete", (2,)),
        Change("lines", "upsert", (7, 2), {"qty": 5, "order_id": 7, "line_no": 2}),
        Commit("50"),
    ]
    # V first, then a fresh SNAPSHOT transaction: validity checked inside it, then the rows
    assert server.log == [
        mc.TRACKING_STATE_SQL, mc.SNAPSHOT_SQL, "ROLLBACK", D.min_valid_sql([PLAIN, COMPOSITE]),
        D.changes_sql(PLAIN, 20), D.changes_sql(COMPOSITE, 20), "ROLLBACK",
    ]  # fmt: skip
    assert server.closed


def test_no_new_version_reads_no_rows():
    server = Server(state_row(current=20), valid=[(0, 3)])
    out = list(recording(server).capture_changes(URL, "replica", [PLAIN], "20", 10))
    assert out == []  # the end of the log: sluice.capture stops there
    assert not any(s.startswith("SELECT [ct]") for s in server.log)


def test_changes_cleaned_up_name_the_table():
    server = Server(state_row(current=90), valid=[(0, 3), (1, 61)])
    with pytest.raises(ConfigError) as err:
        list(recording(server).capture_changes(URL, "replica", [PLAIN, ODD], "40", 10))
    assert str(err.value) == (
        "table [we]]ird].[odd ]]name 50%]: changes before version 61 were cleaned up "
        "(the replica is at 40): copy the table again"
    )
    assert server.closed


@pytest.mark.parametrize(
    "row, said",
    [
        (state_row(tracking=False, current=None), "no longer tracks changes"),
        (state_row(snapshot_state=0), "ALLOW_SNAPSHOT_ISOLATION ON"),
        (state_row(current=5), "before the replica's 40"),
    ],
)
def test_a_source_that_changed_under_the_capture_is_refused(row, said):
    with pytest.raises(ConfigError, match=re.escape(said)):
        list(recording(Server(row)).capture_changes(URL, "replica", [PLAIN], "40", 10))


def test_a_table_no_longer_tracked_is_named():
    server = Server(state_row(current=90), valid=[(0, None)])
    with pytest.raises(ConfigError, match=re.escape(D.track_table_sql(PLAIN))):
        list(recording(server).capture_changes(URL, "replica", [PLAIN], "40", 10))


def test_status_reports_version_and_retention():
    status = recording(Server(state_row(current=77, oldest_valid=30))).capture_status(URL, "r")
    assert status.exists and status.current == "77" and status.lag_bytes is None
    assert "retention 2 days, auto cleanup" in status.detail
    assert "positions before 30 can no longer be resumed" in status.detail
    off = recording(Server(state_row(tracking=False, current=None))).capture_status(URL, "r")
    assert not off.exists and "Change Tracking is off in [so]" in off.detail


# --- CDC -------------------------------------------------------------------------------------

LO, HI = "0x0000002A000001F00003", "0x0000002A000002100001"


def lsn(n: int) -> bytes:
    return n.to_bytes(10, "big")


def instance(table: Table, name: str = "", columns=None) -> mcdc.Instance:
    return mcdc.Instance(name or "inst", lsn(1), tuple(columns or table.column_names))


def test_cdc_metadata_queries_compile():
    for sql in (mcdc.MAX_LSN_SQL, mcdc.CDC_ENABLED_SQL, D.cdc_increment_sql(LO)):
        select = tsql(sql)
        assert isinstance(select, exp.Select)
    assert tsql(D.cdc_increment_sql(LO)).find(exp.HexString) is not None
    select = tsql(D.cdc_instances_sql(TABLES))
    names = {".".join(p.name for p in t.parts) for t in select.find_all(exp.Table)}
    assert names == {"cdc.change_tables", "cdc.captured_columns"}
    rows = [row.expressions for row in select.find(exp.Values).expressions]
    assert [parts(national(name.sql("tsql"))) for _, name in rows] == [where_of(t) for t in TABLES]
    order = [o.this.sql("tsql") for o in select.args["order"].expressions]
    assert order == ["v.n", "t.create_date", "t.capture_instance", "c.column_ordinal"]


@pytest.mark.parametrize("table", TABLES, ids=IDS)
def test_cdc_changes_query_compiles_and_reads_captured_columns_as_the_copy_does(table):
    captured = table.column_names[::-1][: max(len(table.primary_key), len(table.columns) - 1)]
    captured = tuple(dict.fromkeys((*table.primary_key, *captured)))
    inst = instance(table, f"{table.schema or 'dbo'}_{table.name}", captured)
    select = tsql(D.cdc_changes_sql(table, inst, LO, HI))
    assert isinstance(select, exp.Select)
    source = select.args["from_"].this
    function = source.this
    assert source.alias == "c" and function.name == f"fn_cdc_get_all_changes_{inst.name}"
    assert [p.name for p in source.parts][0] == "cdc"
    args = function.expressions
    assert [a.sql("tsql") for a in args[:2]] == [LO, HI] and args[2].name == "all"
    cols = [c for c in table.columns if c.name in captured]  # in the table's order
    expected = ["__$start_lsn", "__$seqval", "__$operation"] + [c.name for c in cols]
    assert [e.alias_or_name for e in select.expressions] == expected
    for c, e in zip(cols, select.expressions[3:]):
        assert e.this if c.type.kind is Kind.XML else e  # xml read as text, as a copy does
        assert (e.this.sql("tsql") if isinstance(e, exp.Alias) else e.sql("tsql")) == tsql(
            f"SELECT {D.select_expr(c)}"
        ).expressions[0].sql("tsql")
    ops = select.args["where"].find(exp.In)
    assert [int(x.name) for x in ops.expressions] == [1, 2, 4]
    assert [o.this.name for o in select.args["order"].expressions] == [
        "__$start_lsn", "__$seqval", "__$operation",
    ]  # fmt: skip


@pytest.mark.parametrize("bad", ["0x12", "0x0000002a000001f00003", "1; DROP TABLE t", "42"])
def test_only_lsn_text_reaches_cdc_sql(bad):
    with pytest.raises(ConfigError):
        D.cdc_changes_sql(PLAIN, instance(PLAIN), bad, HI)


def test_lsn_positions_order_as_numbers():
    assert D.position_order(LO) < D.position_order(HI)
    assert D.position_order("0x00000000000000000010") > D.position_order("0x0000000000000000000F")


def test_cdc_problems_name_the_table_and_the_uncaptured_key():
    inst = instance(COMPOSITE, "dbo_lines", ["qty", "order_id"])
    assert D.cdc_problems([COMPOSITE], [inst]) == [
        "CDC capture instance dbo_lines of [dbo].[lines] does not capture its key "
        "column(s) [line_no]"
    ]
    assert D.cdc_problems([PLAIN], [instance(PLAIN)]) == []


def test_start_chooses_cdc_only_when_every_table_has_a_capture_instance():
    both = Server(
        state_row(cdc=True),
        instances=[(0, "dbo_posts", lsn(1), "id"), (0, "dbo_posts", lsn(1), "body"),
                   (1, "dbo_lines", lsn(1), "order_id"), (1, "dbo_lines", lsn(1), "line_no")],
        max_lsn=lsn(77),
    )  # fmt: skip
    assert recording(both).capture_start(URL, "r", [PLAIN, COMPOSITE]) == mcdc.lsn_text(lsn(77))
    one = Server(
        state_row(cdc=True, current=5),
        instances=[(0, "dbo_posts", lsn(1), "id")],
        checks=[(0, 1, 1, 1, 1), (1, 1, 1, 1, 1)],
    )
    assert recording(one).capture_start(URL, "r", [PLAIN, COMPOSITE]) == "5"  # Change Tracking


def test_newest_capture_instance_wins():
    server = Server(
        instances=[(0, "dbo_posts_v2", lsn(9), "id"), (0, "dbo_posts_v2", lsn(9), "body"),
                   (0, "dbo_posts", lsn(1), "id")],
    )  # fmt: skip
    assert D.cdc_instances(server, [PLAIN, COMPOSITE]) == [
        mcdc.Instance("dbo_posts_v2", lsn(9), ("id", "body")),
        None,
    ]


def test_cdc_changes_come_in_commit_order_with_a_commit_per_transaction():
    meta = Server(
        instances=[(0, "dbo_posts", lsn(1), "id"), (0, "dbo_posts", lsn(1), "body"),
                   (1, "dbo_lines", lsn(1), "order_id"), (1, "dbo_lines", lsn(1), "line_no"),
                   (1, "dbo_lines", lsn(1), "qty")],
        max_lsn=lsn(100), increment=lsn(11),
    )  # fmt: skip
    posts = Server(changes={"dbo_posts": [
        (lsn(20), lsn(1), 2, 1, "a"), (lsn(40), lsn(1), 4, 1, "b"), (lsn(40), lsn(3), 1, 2, "x"),
    ]})  # fmt: skip
    lines = Server(changes={"dbo_lines": [
        (lsn(20), lsn(2), 2, 5, 7, 1), (lsn(30), lsn(1), 1, None, 7, 1),
    ]})  # fmt: skip
    after = mcdc.lsn_text(lsn(10))
    out = list(recording(meta, posts, lines).capture_changes(URL, "r", [PLAIN, COMPOSITE],
                                                              after, 100))  # fmt: skip
    commit = lambda n: Commit(mcdc.lsn_text(lsn(n)))  # noqa: E731
    assert out == [
        Change("posts", "upsert", (1,), {"id": 1, "body": "a"}),
        Change("lines", "upsert", (7, 1), {"qty": 5, "order_id": 7, "line_no": 1}),
        commit(20),
        Change("lines", "delete", (7, 1)),
        commit(30),
        Change("posts", "upsert", (1,), {"id": 1, "body": "b"}),
        Change("posts", "delete", (2,)),
        commit(40),
        commit(100),  # nothing more up to the highest LSN captured
    ]
    read = D.cdc_instances(meta, [PLAIN])[0]
    assert posts.log == [D.cdc_changes_sql(PLAIN, read, commit(11).position, commit(100).position)]
    assert meta.closed and posts.closed and lines.closed


def test_cdc_batch_stops_at_the_first_commit_after_the_limit():
    merged = [(lsn(20), lsn(1), "a"), (lsn(20), lsn(2), "b"), (lsn(30), lsn(1), "c")]
    out = list(D._cdc_merge(iter(merged), 1, mcdc.lsn_text(lsn(100))))
    assert out == ["a", "b", Commit(mcdc.lsn_text(lsn(20)))]  # a transaction is never split


def test_cdc_history_cleaned_up_names_the_table():
    meta = Server(instances=[(0, "dbo_posts", lsn(50), "id")], max_lsn=lsn(100),
                  increment=lsn(11))  # fmt: skip
    with pytest.raises(ConfigError, match=r"table \[dbo\]\.\[posts\]: changes before LSN 0x"):
        list(recording(meta).capture_changes(URL, "r", [PLAIN], mcdc.lsn_text(lsn(10)), 10))


def test_cdc_switched_off_since_the_copy_is_refused():
    meta = Server(cdc_on=False)
    with pytest.raises(ConfigError, match="CDC was switched off"):
        list(recording(meta).capture_changes(URL, "r", [PLAIN], mcdc.lsn_text(lsn(10)), 10))
    assert meta.log == [mcdc.CDC_ENABLED_SQL] and meta.closed


def test_cdc_end_of_the_log_yields_nothing():
    meta = Server(instances=[(0, "dbo_posts", lsn(1), "id")], max_lsn=lsn(10), increment=lsn(11))
    assert list(recording(meta).capture_changes(URL, "r", [PLAIN], mcdc.lsn_text(lsn(10)), 9)) == []


def test_cdc_changes_of_other_tables_only_move_the_position():
    meta = Server(instances=[(0, "dbo_posts", lsn(1), "id")], max_lsn=lsn(90), increment=lsn(11))
    posts = Server(changes={"dbo_posts": []})
    out = list(recording(meta, posts).capture_changes(URL, "r", [PLAIN], mcdc.lsn_text(lsn(10)), 9))
    assert out == [Commit(mcdc.lsn_text(lsn(90)))]
