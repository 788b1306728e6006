"""The copy's chunk ledger (sluice.state.ledger, ADR 0018) as T-SQL, without a server: every
statement a resumable copy sends to a SQL Server target is parsed by sqlglot's T-SQL parser
(parameters substituted by pymssql's own quoting) and checked for kind and table. Not verified
against a live SQL Server: none runs here."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlglot import exp
from tests.unit.test_mssql_dialect import D, FakeConn, tsql

from sluice.state import ledger


def _table_of(statement: exp.Expression) -> list[str]:
    table = statement.find(exp.Table)
    return [table.db, table.name]


@pytest.mark.parametrize("table", [ledger.TABLES, ledger.CHUNKS])
def test_ledger_tables_are_created_in_dbo_with_their_key(table):
    (ddl,) = D.create_table_sql(ledger._of(D, table), primary_key=True)
    parsed = tsql(ddl)
    assert isinstance(parsed, exp.Create)
    assert _table_of(parsed) == ["dbo", table.name]
    keys = ", ".join(f"[{k}]" for k in table.primary_key)
    assert f"PRIMARY KEY CLUSTERED ({keys})" in ddl  # 255 nvarchar + bigint: under 900 bytes


def test_a_chunk_record_deletes_only_on_a_retry_then_inserts():
    conn = FakeConn()
    ledger.record_chunk(D, conn, "f" * 64, "Votes", 3, 5000, again=False)
    assert [type(tsql(sql, p)) for sql, p in conn.log] == [exp.Insert]
    conn = FakeConn()
    ledger.record_chunk(D, conn, "f" * 64, "Votes", 3, 5000, again=True)
    delete, insert = (tsql(sql, p) for sql, p in conn.log)
    assert isinstance(delete, exp.Delete) and isinstance(insert, exp.Insert)
    assert _table_of(delete) == _table_of(insert) == ["dbo", "sluice_copy_chunks"]
    assert conn.log[0][1] == ["Votes", 3]
    sent = conn.log[1][1]
    assert sent[:4] == ["Votes", 3, "f" * 64, 5000]
    assert dt.datetime.fromisoformat(str(sent[4]))  # datetime2 as its ISO text


def test_a_publish_clears_its_chunks_and_records_its_table_without_update():
    conn = FakeConn()
    ledger.mark_published(D, conn, "f" * 64, ("Posts", "e" * 64, "{}"), 17000)
    statements = [tsql(sql, p) for sql, p in conn.log]
    assert [type(s) for s in statements] == [exp.Delete, exp.Delete, exp.Insert]
    assert _table_of(statements[2]) == ["dbo", "sluice_copy_tables"]
    assert conn.log[2][1][:5] == ["Posts", "f" * 64, "e" * 64, "{}", 17000]
