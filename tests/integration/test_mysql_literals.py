"""MySQL's INSERT literals are rendered by sluice, not PyMySQL: every value must come back
exactly as sent, including what the server's string parser treats specially, and statements
must split by encoded bytes (multi-byte text) without losing or repeating a row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.dialects.mysql_literals import Literals

TEXTS = ["\x00", "a\x00b", "\x1a", "\\", "\\0", "'", "''", "\\'", '"', "\n\r\t", "%s", "€😀",
         "", " ", "NULL", "\\N", "x" * 70_000, "😀" * 300_000]  # fmt: skip
T = Table(
    "lit",
    (
        Column("Id", SqlType(Kind.INTEGER), False),
        Column("s", SqlType(Kind.STRING)),
        Column("d", SqlType(Kind.DATETIME, precision=6)),
        Column("n", SqlType(Kind.DECIMAL, precision=20, scale=4)),
        Column("b", SqlType(Kind.BOOLEAN)),
        Column("bin", SqlType(Kind.BINARY)),
    ),
    ("Id",),
)


def test_values_round_trip_through_bulk_load(mysql_db):
    d = get_dialect("mysql")
    conn = d.connect(mysql_db)
    cur = conn.cursor()
    for stmt in d.create_table_sql(T):
        cur.execute(stmt)
    rows = [(i, s, dt.datetime(1, 1, 1, 0, 0, 0, i), Decimal("-1234567890123456.0001"), i % 2 == 0,
             s.encode("utf-8") if s else b"\x00\xff")
            for i, s in enumerate(TEXTS)]  # fmt: skip
    rows.append((len(TEXTS), None, None, None, None, None))
    assert d.bulk_load(conn, T, iter(rows)) == len(rows)
    conn.commit()
    cur.execute("SELECT Id, s, d, n, b, bin FROM lit ORDER BY Id")
    back = [(r[0], r[1], r[2], r[3], None if r[4] is None else bool(r[4]), r[5])
            for r in cur.fetchall()]  # fmt: skip
    conn.close()
    assert back == rows


def test_statements_split_by_encoded_bytes_and_rows():
    lit = Literals(repr)
    rows = [(i, "é" * 100) for i in range(50)]  # 200 bytes of text per row, 100 characters
    statements = list(lit.statements(b"INSERT ", iter(rows), "utf8", 1000, 1000))
    assert all(len(s) <= 1000 for s in statements)
    assert len(statements) >= 50 * 200 // 1000  # by bytes; by characters it would be half
    values = b",".join(s[len(b"INSERT ") :] for s in statements).decode()
    assert values == ",".join(f"({i},'{'é' * 100}')" for i in range(50))
    by_rows = list(lit.statements(b"", iter(rows), "utf8", 7, 1 << 20))
    assert [s.count(b"(") for s in by_rows] == [7] * 7 + [1]
    assert lit.rows_in_last == 1
