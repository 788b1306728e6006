"""SQL Server -> PostgreSQL rows rendered by the server as CSV (dialects/mssql_export), without
a server: the statement is compiled by sqlglot's T-SQL parser after pymssql's own parameter
substitution, and checked field by field (each kind's conversion and style, the NULL guard,
nvarchar(max) everywhere, `+` rather than CONCAT, quoted identifiers). The Python side (blocks
of whole lines, UTF-8 once per block, fetch sizes, a NULL line) runs against a cursor class
written here that hands rows over as pymssql does: one str per row, in tuples.

What PostgreSQL makes of each rendering is checked against a real PostgreSQL in
tests/integration/test_mssql_csv_export.py; nothing here claims what SQL Server prints.
"""

from __future__ import annotations

import pymssql
import pytest
import sqlglot
from pymssql import _mssql
from sqlglot import exp

from sluice.copy.plan import plan_tables
from sluice.core.errors import RawRejected
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.datasets.stackoverflow import TABLE_NAMES, TABLES
from sluice.dialects import get_dialect
from sluice.dialects import mssql_export as me
from sluice.dialects import mssql_types as mt

D = get_dialect("mssql")
PG = get_dialect("postgresql")

# every declaration whose kind is rendered, with the style its conversion must carry
DECLARED = [
    ("bit", None), ("tinyint", None), ("smallint", None), ("int", None), ("bigint", None),
    ("decimal(38,10)", None), ("numeric(5,0)", None), ("money", 2), ("smallmoney", 2),
    ("real", 3), ("float", 3), ("date", 23), ("datetime", 121), ("smalldatetime", 121),
    ("datetime2(3)", 121), ("datetime2(7)", 121), ("uniqueidentifier", None),
    ("nvarchar(40)", None), ("nvarchar(max)", None), ("varchar(8000)", None), ("nchar(5)", None),
    ("char(3)", None), ("text", None), ("ntext", None), ("varbinary(max)", None),
    ("binary(16)", None), ("image", None),
]  # fmt: skip


def every_kind(name: str = "t", schema: str = "dbo", names=None) -> Table:
    names = names or [f"c{i}" for i in range(len(DECLARED))]
    cols = [Column("Id", SqlType(Kind.INTEGER), nullable=False)]
    cols += [Column(n, mt.parse_type(d)) for n, (d, _) in zip(names, DECLARED)]
    return Table(name, tuple(cols), ("Id",), schema)


def compiled(table: Table, lo=None, hi=None) -> exp.Select:
    sql, params = me.csv_select_sql(D, table, lo, hi)
    text = _mssql.substitute_params(sql, tuple(D.bind(params))).decode()
    select = sqlglot.parse_one(text, read="tsql")
    assert isinstance(select, exp.Select)
    return select


def terms(node: exp.Expression) -> list[exp.Expression]:
    """The operands of a sum, flattened through parentheses, left to right."""
    if isinstance(node, exp.Paren):
        return terms(node.this)
    if isinstance(node, exp.Add):
        return terms(node.this) + terms(node.expression)
    return [node]


def fields(select: exp.Select) -> list[exp.Case]:
    """The NULL-guarded fields of the line, in order."""
    return [t for t in terms(select.expressions[0]) if isinstance(t, exp.Case)]


def test_every_listed_kind_compiles_with_its_conversion():
    assert {mt.parse_type(d).kind for d, _ in DECLARED} == me.CSV_KINDS
    table = every_kind()
    select = compiled(table, 100, 200)
    (line,) = select.expressions
    assert [p.name for p in select.find(exp.Table).parts] == ["dbo", "t"]
    where = select.args["where"].this
    assert isinstance(where, exp.And)
    assert (where.this.expression.name, where.expression.expression.name) == ("100", "200")
    assert select.args.get("order") is None  # a chunk is loaded as a set
    # `+` only: CONCAT would read a failed rendering's NULL as an empty field (SQL NULL)
    assert select.find(exp.Concat) is None and select.find(exp.DPipe) is None
    parts = terms(line)
    assert isinstance(parts[-1], exp.Anonymous) and parts[-1].name.upper() == "NCHAR"
    assert parts[-1].expressions[0].name == "10"  # the line ends in a newline
    assert [p.name for p in parts[1:-1:2]] == [","] * (len(table.columns) - 1)
    guarded = fields(select)
    assert len(guarded) == len(table.columns)
    for col, case, (declared, style) in zip(table.columns, guarded, [("int", None), *DECLARED]):
        (when,) = case.args["ifs"]
        assert isinstance(when.this, exp.Is) and when.this.this.name == col.name, declared
        assert isinstance(when.args["true"], exp.National) and when.args["true"].name == ""
        styles = [c.args.get("style") for c in case.find_all(exp.Convert)]
        shown = {int(s.name) for s in styles if s is not None}
        kind = col.type.kind
        if kind is Kind.BINARY:
            assert shown == {2}, declared  # hex without 0x
        else:
            assert shown == ({style} if style else set()), declared


def test_every_character_conversion_is_to_a_max_type():
    """A REPLACE or `+` of shorter types is cut at 8000 bytes without a word."""
    select = compiled(every_kind())
    for node in select.find_all(exp.Cast, exp.Convert):
        to = node.args["to"] if isinstance(node, exp.Cast) else node.this
        if to.this in (exp.DType.NVARCHAR, exp.DType.VARCHAR, exp.DType.VARBINARY):
            assert [p.this.name for p in to.expressions] == ["MAX"], node.sql("tsql")


def test_text_is_quoted_with_quotes_doubled_under_a_binary_collation():
    t = Table("t", (Column("Id", SqlType(Kind.INTEGER)), Column("s", SqlType(Kind.STRING))),
              ("Id",), "dbo")  # fmt: skip
    (_, case) = fields(compiled(t))
    value = terms(case.args["default"])
    assert [v.name for v in (value[0], value[-1])] == ['"', '"']
    (replace,) = [v for v in value if isinstance(v, exp.Replace)]
    assert (replace.expression.name, replace.args["replacement"].name) == ('"', '""')
    collate = replace.this
    assert isinstance(collate, exp.Collate) and collate.expression.name == "Latin1_General_BIN2"
    assert collate.this.this.name == "s"


def test_binary_is_bytea_hex_and_datetime2_7_keeps_microseconds_truncated():
    t = Table("t", (Column("Id", SqlType(Kind.INTEGER)),
                    Column("b", SqlType(Kind.BINARY)),
                    Column("d7", SqlType(Kind.DATETIME, precision=7)),
                    Column("d6", SqlType(Kind.DATETIME, precision=6))), ("Id",), "dbo")  # fmt: skip
    _, b, d7, d6 = fields(compiled(t))
    prefix, hexed = terms(b.args["default"])
    assert isinstance(prefix, exp.National) and prefix.name == "\\x"
    inner = hexed.find(exp.Convert, bfs=False)
    assert inner.this.this is exp.DType.NVARCHAR
    left = d7.args["default"]
    assert isinstance(left, exp.Left) and left.expression.name == "26"  # pymssql: ns // 1000
    assert d6.find(exp.Left) is None


AWKWARD = ["a]b", "[x]", "sp ace", "50% off", "ü😀", 'q"q', "O'Brien", "select", "--", "a.b"]


def test_awkward_identifiers_are_quoted():
    table = Table(
        "t]a'b%", tuple(Column(n, SqlType(Kind.STRING)) for n in AWKWARD), (AWKWARD[0],), "s c]",
    )  # fmt: skip
    select = compiled(table, "O'Brien", None)
    assert [p.name for p in select.find(exp.Table).parts] == ["s c]", "t]a'b%"]
    guarded = [case.args["ifs"][0].this.this.name for case in fields(select)]
    assert guarded == AWKWARD
    where = select.args["where"].this
    assert isinstance(where, exp.GT) and where.this.name == "a]b"
    assert where.expression.name == "O'Brien"  # pymssql's literal, quote doubled
    collated = [c.this.this.name for c in select.find_all(exp.Collate, bfs=False)]
    assert collated == AWKWARD


def test_a_wide_table_is_one_shallow_sum():
    """1024 columns (SQL Server's limit): no CONCAT argument limit (254), and the sum is
    nested in halves, not a chain two thousand levels deep."""
    cols = [Column(f"c{i}", SqlType(Kind.INTEGER)) for i in range(1024)]
    select = compiled(Table("wide", tuple(cols), ("c0",), "dbo"))
    assert len(fields(select)) == 1024

    def depth(node: exp.Expression) -> int:
        if isinstance(node, exp.Paren | exp.Add):
            return 1 + max(depth(c) for c in node.iter_expressions())
        return 0

    assert depth(select.expressions[0]) < 64


def test_a_kind_outside_the_list_is_not_rendered():
    with pytest.raises(NotImplementedError):
        me.csv_field("[t]", Kind.TIME)
    assert Kind.TIME not in me.CSV_KINDS and Kind.DATETIME_TZ not in me.CSV_KINDS


def test_postgresql_imports_every_kind_sql_server_renders():
    assert PG.raw_import_kinds >= me.CSV_KINDS
    assert PG.raw_import_format == me.FORMAT == D.raw_export_formats[0]
    assert D.raw_export_kinds == {me.FORMAT: me.CSV_KINDS}


def _plan(tables: list[Table], raw_import: bool = True):
    stats = {t.name: (1, 10, 10) for t in tables}  # keyed in the default schema (dbo)
    return plan_tables(tables, stats, "mssql", "postgresql", "src", "dst", raw_import=raw_import)


def test_the_stackoverflow_tables_are_planned_as_csv_lines():
    plan = _plan([TABLES[n] for n in TABLE_NAMES])
    assert {tp.name: tp.raw_format for tp in plan.tables} == dict.fromkeys(
        TABLE_NAMES, "postgresql-csv")  # fmt: skip
    assert all(tp.passthrough for tp in plan.tables)
    assert all(not tp.passthrough for tp in _plan([TABLES["Posts"]], raw_import=False).tables)


def test_a_table_with_an_unlisted_kind_stays_decoded():
    t = Table("t", (Column("Id", SqlType(Kind.INTEGER)),
                    Column("at", SqlType(Kind.TIME, precision=3))), ("Id",), "dbo")  # fmt: skip
    (tp,) = _plan([t]).tables
    assert tp.raw_format == "" and not tp.passthrough


# --- the Python side, on rows shaped as pymssql returns them ---------------------------------


class LineCursor:
    """Rows as pymssql hands over a one-column nvarchar(max) result: tuples of one str each,
    fetched in batches; fetchall would load a whole chunk, so it fails."""

    def __init__(self, lines, fail=None):
        self.rows = [(line,) for line in lines]
        self.fetches: list[int] = []
        self.executed: list[tuple[str, list]] = []
        self.fail = fail

    def execute(self, sql, params):
        self.executed.append((sql, params))
        if self.fail is not None:
            raise self.fail

    def fetchmany(self, n):
        self.fetches.append(n)
        batch, self.rows = self.rows[:n], self.rows[n:]
        return batch

    def fetchall(self):  # pragma: no cover - a chunk is never read whole
        raise AssertionError("fetchall")


class LineConn:
    def __init__(self, cursor: LineCursor):
        self._cursor = cursor

    def cursor(self):
        return self._cursor


ONE = Table("t", (Column("Id", SqlType(Kind.INTEGER)), Column("s", SqlType(Kind.STRING))),
            ("Id",), "dbo")  # fmt: skip
# what the statement renders for (1, 'a"b'), (2, NULL), (3, 'é😀\n,\\'), (4, '')
LINES = ['1,"a""b"\n', "2,\n", '3,"é😀\n,\\"\n', '4,""\n']


def test_blocks_are_whole_lines_in_utf8():
    cur = LineCursor(LINES * 10)
    blocks = list(me.csv_blocks(cur, ONE))
    assert b"".join(blocks) == "".join(LINES * 10).encode("utf-8")
    assert all(b.endswith(b"\n") for b in blocks)
    assert cur.fetches == [1, 500, 500] and len(blocks) == 2  # then ~BLOCK_BYTES a fetch


def test_fetches_follow_the_width_of_lines(monkeypatch):
    monkeypatch.setattr(me, "BLOCK_BYTES", 1000)
    wide = ['1,"' + "x" * 300 + '"\n'] * 40
    cur = LineCursor(wide)
    assert b"".join(me.csv_blocks(cur, ONE)) == "".join(wide).encode()
    assert cur.fetches[:3] == [1, 3, 3]  # ~1000 characters a fetch
    huge = LineCursor(['1,"' + "x" * 5000 + '"\n'] * 3)
    assert len(list(me.csv_blocks(huge, ONE))) == 3
    assert huge.fetches == [1, 1, 1, 1]  # never less than a row


def test_a_null_line_rejects_the_chunk():
    cur = LineCursor([LINES[0], None, LINES[1]])
    with pytest.raises(RawRejected, match="t: a row came back NULL"):
        list(me.csv_blocks(cur, ONE))


def test_text_utf8_cannot_encode_rejects_the_chunk():
    cur = LineCursor(['1,"\ud800"\n'])  # an unpaired surrogate
    with pytest.raises(RawRejected, match="UTF-8"):
        list(me.csv_blocks(cur, ONE))


def test_raw_read_runs_the_keyset_statement_and_streams():
    cur = LineCursor(LINES)
    blocks = list(D.raw_read(LineConn(cur), ONE, 0, 4, "postgresql-csv"))
    assert b"".join(blocks) == "".join(LINES).encode()
    ((sql, params),) = cur.executed
    assert params == [0, 4] and sql == me.csv_select_sql(D, ONE, 0, 4)[0]
    with pytest.raises(NotImplementedError):
        next(D.raw_read(LineConn(LineCursor([])), ONE, 0, 4, "csv"))


def test_a_statement_the_server_cannot_compile_sends_the_chunk_decoded():
    deep = pymssql.ProgrammingError(191, b"Some part of your SQL statement is nested too "
                                         b"deeply (severity 15)")  # fmt: skip
    with pytest.raises(RawRejected, match="message 191"):
        list(D.raw_read(LineConn(LineCursor([], fail=deep)), ONE, 0, 4, "postgresql-csv"))
    style = pymssql.ProgrammingError(281, b"3 is not a valid style number (severity 16)")
    with pytest.raises(RawRejected, match="message 281"):
        list(D.raw_read(LineConn(LineCursor([], fail=style)), ONE, 0, 4, "postgresql-csv"))
    # a deadlock is the reader's fault to retry, not a reason to decode
    lock = pymssql.OperationalError(1205, b"deadlocked (severity 13)")
    with pytest.raises(pymssql.OperationalError):
        list(D.raw_read(LineConn(LineCursor([], fail=lock)), ONE, 0, 4, "postgresql-csv"))
