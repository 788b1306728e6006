"""MySQL -> PostgreSQL moves rows MySQL renders as CSV into COPY (dialects/mysql_export, ADR
0028). Beyond the values the conformance suite checks: text that CSV or COPY treat specially
arrives exactly, and a value PostgreSQL refuses sends the chunk the decoded way, where the
user's --zero-dates applies, never stored changed by the raw path."""

from __future__ import annotations

import logging

from sluice.copy import CopyOptions, copy_database
from sluice.dialects import get_dialect

# every character CSV, COPY or the server's literals treat specially, and their neighbours
AWKWARD = ["", '"', '""', ",", "\n", "\r\n", "\\", "\\N", "\\.", "a\tb", "NULL", " lead",
           "trail ", "é😀", "x" * 5000, '"quoted, with\nnewline"', "\\x41"]  # fmt: skip


def _mysql(url, statements: list[str], params: list[tuple] = ()) -> None:
    conn = get_dialect("mysql").connect(url)
    cur = conn.cursor()
    for stmt in statements:
        cur.execute(stmt)
    for p in params:
        cur.execute("INSERT INTO t VALUES (%s, %s, %s, %s)", p)
    conn.commit()
    conn.close()


def _pg(url, sql: str) -> list[tuple]:
    conn = get_dialect("postgresql").connect(url)
    rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def test_awkward_text_and_bytes_arrive_exactly(mysql_db, pg_db):
    rows = [(i, s, s.encode() + bytes([0, 255, 10, 44, 34]), None if i % 3 else 1.5e-300)
            for i, s in enumerate(AWKWARD, 1)]  # fmt: skip
    rows.append((len(AWKWARD) + 1, None, None, None))
    _mysql(mysql_db, ["CREATE TABLE t (id int PRIMARY KEY, s longtext, b longblob, d double)"
                      " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"], rows)  # fmt: skip
    result = copy_database(mysql_db, pg_db, CopyOptions(chunk_rows=5))
    assert result.ok, result.failures
    assert result.plan.table("t").raw_format == "postgresql-csv"
    assert result.tables["t"].decoded_again == 0
    got = _pg(pg_db, "SELECT id, s, b, d FROM t ORDER BY id")
    assert [(i, s, None if b is None else bytes(b), d) for i, s, b, d in got] == rows


def test_a_zero_date_goes_the_decoded_way(mysql_db, pg_db, caplog):
    _mysql(mysql_db, ["SET SESSION sql_mode = ''",
                      "CREATE TABLE z (id int PRIMARY KEY, d datetime)",
                      "INSERT INTO z VALUES (1, '2020-01-01 10:00:00'),"
                      " (2, '0000-00-00')"])  # fmt: skip
    caplog.set_level(logging.WARNING)
    options = CopyOptions(zero_dates="null")
    result = copy_database(mysql_db, pg_db, options)
    assert result.ok, result.failures
    assert result.plan.table("z").raw_format == "postgresql-csv"
    assert result.tables["z"].decoded_again == 1  # COPY refused the zero date's text
    assert "copying the range again as decoded values" in caplog.text
    assert result.zero_dates == 1
    assert _pg(pg_db, "SELECT id, d::text FROM z ORDER BY id") == [
        (1, "2020-01-01 10:00:00"), (2, None)]  # fmt: skip
