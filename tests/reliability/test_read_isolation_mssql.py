"""SQL Server source reads (ADR 0010), without a server: the statements compile as T-SQL and
`begin_read` picks SNAPSHOT isolation only where the database allows it, then starts a fresh
transaction under that level before the first read. Never run against a live server here.

sqlglot (30.x) cannot parse SET TRANSACTION ISOLATION LEVEL SNAPSHOT: that statement's exact
form is checked instead, as tests/unit/test_mssql_dialect.py does for DBCC and friends."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from sluice.dialects import get_dialect
from sluice.dialects import mssql as m

D = get_dialect("mssql")


class Recorder:
    """What pymssql would be asked, in order; `state` is the database's snapshot setting."""

    def __init__(self, state: int):
        self.state, self.log = state, []

    def cursor(self):
        return self

    def execute(self, sql, *params):
        self.log.append(sql)

    def fetchone(self):
        return (self.state,)

    def rollback(self):
        self.log.append("ROLLBACK")


def test_snapshot_state_query_compiles():
    select = sqlglot.parse_one(m.SNAPSHOT_STATE_SQL, read="tsql")
    assert isinstance(select, exp.Select)
    assert [c.name for c in select.expressions] == ["snapshot_isolation_state"]
    table = select.find(exp.Table)
    assert [p.name for p in table.parts] == ["sys", "databases"]
    assert select.find(exp.Anonymous).name.upper() == "DB_ID"


def test_isolation_statements_compile_or_have_their_exact_form():
    committed = sqlglot.parse_one(m.COMMITTED_READ_SQL, read="tsql")
    assert isinstance(committed, exp.Set)
    assert committed.expressions[0].args["kind"] == "TRANSACTION"
    assert re.fullmatch(r"SET TRANSACTION ISOLATION LEVEL SNAPSHOT", m.SNAPSHOT_READ_SQL)


@pytest.mark.parametrize(
    "state, level",
    [(1, m.SNAPSHOT_READ_SQL), (0, m.COMMITTED_READ_SQL), (2, m.COMMITTED_READ_SQL)],
)
def test_begin_read_uses_snapshot_only_where_the_database_allows_it(state, level):
    """snapshot_isolation_state: 0 OFF, 1 ON, 2 turning off, 3 turning on (only 1 works)."""
    conn = Recorder(state)
    D.begin_read(conn, snapshot="ignored: SQL Server cannot share one")
    assert conn.log == [m.SNAPSHOT_STATE_SQL, level, "ROLLBACK"]
    assert not D.shares_snapshots
