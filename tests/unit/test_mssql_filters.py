"""Row filters, columns left out and masks without a server (issue 24, ADR 0016): the SQL Server
side compiled by sqlglot's T-SQL parser (never claimed to have run), and the pure parts:
parsing the options, refusals by name, what each mask makes of a value."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlglot import exp
from tests.unit.test_mssql_dialect import tsql

from sluice.copy import filters, masks
from sluice.copy.plan import Plan, plan_tables
from sluice.copy.refusals import Selection
from sluice.copy.staging import staging_table
from sluice.core.errors import ConfigError
from sluice.core.schema import Column, ForeignKey, Index, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.sync.deletes import summary_sql

D = get_dialect("mssql")
CONDITION = "[Score] > 10 OR [Title] LIKE N'%a%'"
POSTS = Table(
    "Posts",
    (Column("Id", SqlType(Kind.INTEGER), False), Column("Score", SqlType(Kind.INTEGER)),
     Column("Title", SqlType(Kind.STRING, length=250)), Column("Body", SqlType(Kind.STRING))),
    ("Id",), "dbo", where=CONDITION,
)  # fmt: skip


def conditions(where: exp.Expression) -> tuple[list, list]:
    """The key-range comparisons and the parenthesised filter ANDed at the top level."""
    terms, todo = [], [where]
    while todo:  # the ANDs' operands, parentheses kept (sqlglot's flatten unnests them)
        node = todo.pop()
        if isinstance(node, exp.And):
            todo += [node.expression, node.this]
        else:
            terms.append(node)
    ranges = [(type(t), t.this.name, t.expression.name) for t in terms
              if isinstance(t, (exp.GT, exp.LTE))]  # fmt: skip
    return ranges, [t for t in terms if isinstance(t, exp.Paren)]


@pytest.mark.parametrize("lo, hi, ranges", [
    (100, 200, [(exp.GT, "Id", "100"), (exp.LTE, "Id", "200")]),
    (None, 200, [(exp.LTE, "Id", "200")]),
    (None, None, []),
])  # fmt: skip
def test_the_filter_is_anded_into_the_tsql_keyset_read(lo, hi, ranges):
    sql, params = D.select_range_sql(POSTS, lo, hi)
    select = tsql(sql, params)
    got, parens = conditions(select.args["where"].this)
    assert got == ranges
    (paren,) = parens  # the user's OR stays inside its parentheses
    assert isinstance(paren.this, exp.Or)
    like = paren.find(exp.Like)
    assert like.expression.name == "%a%"  # '%' survives pymssql's format step
    assert [o.this.name for o in select.args["order"].expressions] == ["Id"]


def test_the_filter_is_in_syncs_range_summaries_and_never_in_a_target_statement():
    sql = summary_sql(D, POSTS, "Id")
    where = tsql(sql, [0, 10]).args["where"].this
    got, parens = conditions(where)
    assert [g[0] for g in got] == [exp.GT, exp.LTE] and len(parens) == 1
    stage = staging_table(D, replace(POSTS, where=""))
    delete, params = D.delete_range_sql(stage, 1, 9)
    assert "Score" not in delete and "Title" not in delete
    assert not conditions(tsql(summary_sql(D, stage, "Id"), [0, 1]).args["where"].this)[1]


def plan(selection: Selection, tables=(POSTS,)) -> Plan:
    tables = [replace(t, schema=None, where="") for t in tables]
    stats = {t.key: (1, 1000, 900) for t in tables}
    return plan_tables(tables, stats, "mssql", "postgresql", "src", "dst",
                       selection=selection, defaults=("dbo", "public"))  # fmt: skip


def test_the_plan_carries_filter_masks_and_left_out_columns_through_json():
    users = Table("Users", (Column("Id", SqlType(Kind.INTEGER), False),
                            Column("Email", SqlType(Kind.STRING, length=200), False),
                            Column("City", SqlType(Kind.STRING, length=40))),
                  ("Id",), None, indexes=(Index("ix_city", ("City",)),))  # fmt: skip
    p = plan(Selection(where=(("dbo.Posts", "[Score] > 1"),), exclude_columns=("Users.City",),
                       mask=(("Users.Email", "null"), ("Posts.Title", "hash"))),
             (POSTS, users))  # fmt: skip
    posts, users_plan = p.table("Posts"), p.table("Users")
    assert posts.table.where == "[Score] > 1" and posts.target.where == ""
    assert posts.masks == (("Title", "hash"),) and not posts.passthrough
    assert users_plan.excluded == ("City",)
    assert users_plan.table.column_names == ("Id", "Email") and not users_plan.table.indexes
    assert users_plan.table.column("Email").nullable  # created nullable for the null mask
    assert any("Users.Email: created nullable" in n for n in p.notes)
    assert any("ix_city" in n for n in p.notes)
    again = Plan.from_json(p.to_json())
    assert again.table("Posts").table.where == "[Score] > 1"
    assert again.table("Posts").masks == (("Title", "hash"),)
    assert again.table("Users").excluded == ("City",)


@pytest.mark.parametrize("selection, named", [
    (Selection(where=(("Votes", "1 = 1"),)), "--where names a table that is not selected: Votes"),
    (Selection(where=(("sales.Posts", "1 = 1"),)), "not selected: sales.Posts"),
    (Selection(exclude_columns=("Posts.Id",)), "'Id' is in the primary key of Posts"),
    (Selection(exclude_columns=("Posts.Nope",)), "table Posts has no column 'Nope'"),
    (Selection(exclude_columns=("Posts",)), "--exclude-columns takes table.column"),
    (Selection(mask=(("Posts.Body", "scramble"),)), "unknown mask 'scramble'"),
    (Selection(mask=(("Posts.Id", "hash"),)), "only a text key column can be hashed"),
    (Selection(mask=(("Posts.Id", "null"),)), "a primary-key column cannot be NULL"),
    (Selection(mask=(("Posts.Score", "fixed:1e99"),)), "does not fit integer"),
    (Selection(mask=(("Posts.Title", "fixed:" + "x" * 251),)), "longer than the column's 250"),
    (Selection(exclude_columns=("Posts.Body",), mask=(("Posts.Body", "null"),)),
     "left out by --exclude-columns"),
])  # fmt: skip
def test_refusals_name_table_and_column(selection, named):
    with pytest.raises(ConfigError, match=None) as info:
        plan(selection)
    assert named in str(info.value)


def test_a_text_key_may_be_hashed_only_when_it_holds_128_bits():
    short = Table("t", (Column("k", SqlType(Kind.STRING, length=16), False),), ("k",))
    long = Table("u", (Column("k", SqlType(Kind.STRING, length=64), False),), ("k",))
    with pytest.raises(ConfigError, match="32 hex digits"):
        plan(Selection(mask=(("t.k", "hash"),)), (short,))
    assert plan(Selection(mask=(("u.k", "hash"),)), (long,)).table("u").masks == (("k", "hash"),)


def test_option_parsing():
    assert filters.parse_where(["sales.orders: ts > '2020-01-01 10:00'"]) == (
        ("sales.orders", "ts > '2020-01-01 10:00'"),)  # fmt: skip
    assert filters.parse_columns("a.b, sales.t.c,") == ("a.b", "sales.t.c")
    assert filters.parse_columns(["a.b"]) == ("a.b",)  # the job file's list
    assert filters.parse_masks(["t.c=fixed:a=b"]) == (("t.c", "fixed:a=b"),)
    for bad in (["no condition"], [": x > 1"], ["t:"]):
        with pytest.raises(ConfigError, match="--where takes"):
            filters.parse_where(bad)
    with pytest.raises(ConfigError, match="--mask takes"):
        filters.parse_masks(["nocolumn=hash"])


def test_hash_is_keyed_deterministic_and_type_preserving(monkeypatch):
    monkeypatch.setenv(masks.KEY_VARIABLE, "k1")
    text = Column("e", SqlType(Kind.STRING, length=10))
    small = Column("n", SqlType(Kind.SMALLINT))
    cols = (Column("id", SqlType(Kind.INTEGER)), text, small)
    mask = masks.row_mask(cols, (("e", "hash"), ("n", "hash")))
    a = mask((1, "x@y.org", 7))
    assert mask((2, "x@y.org", 7))[1:] == a[1:]  # same value, same mask, in any row
    other = (Column("mail", SqlType(Kind.STRING, length=10)),)  # and in any table
    assert masks.row_mask(other, (("mail", "hash"),))(("x@y.org",)) == (a[1],)
    assert a[0] == 1 and len(a[1]) == 10 and a[1] != "x@y.org"
    assert -(2**15) <= a[2] < 2**15
    assert mask((1, None, None)) == (1, None, None)  # NULL stays NULL
    monkeypatch.setenv(masks.KEY_VARIABLE, "k2")
    assert masks.row_mask(cols, (("e", "hash"),))((1, "x@y.org", 7))[1] != a[1]  # keyed
    monkeypatch.delenv(masks.KEY_VARIABLE)
    with pytest.raises(ConfigError, match="SLUICE_MASK_KEY") as info:
        masks.row_mask(cols, (("e", "hash"),))
    assert "k1" not in str(info.value)


@pytest.mark.parametrize("kind, text, value", [
    (SqlType(Kind.DECIMAL, precision=6, scale=2), "12.5", Decimal("12.50")),
    (SqlType(Kind.BOOLEAN), "true", True),
    (SqlType(Kind.DATE), "2020-02-29", dt.date(2020, 2, 29)),
    (SqlType(Kind.DATETIME), "2020-02-29 10:11:12", dt.datetime(2020, 2, 29, 10, 11, 12)),
    (SqlType(Kind.TINYINT), "127", 127),
])  # fmt: skip
def test_fixed_values_are_cast_to_the_column_type(kind, text, value):
    assert masks.fixed_value(Column("c", kind), text) == value


@pytest.mark.parametrize("kind, text", [
    (SqlType(Kind.DECIMAL, precision=4, scale=2), "123.4"),
    (SqlType(Kind.DECIMAL, precision=6, scale=2), "1.239"),  # would be rounded
    (SqlType(Kind.TINYINT), "128"),
    (SqlType(Kind.DATE), "2021-02-29"),
    (SqlType(Kind.UUID), "x"),
])  # fmt: skip
def test_fixed_values_that_do_not_fit_are_refused_by_name(kind, text):
    with pytest.raises(ConfigError, match="--mask t.c"):
        masks.fixed_value(Column("c", kind), text, "--mask t.c")


def test_a_foreign_key_to_a_column_left_out_is_not_created():
    parent = Table(
        "p",
        (
            Column("id", SqlType(Kind.INTEGER), False),
            Column("code", SqlType(Kind.STRING, length=5)),
        ),
        ("id",),
    )
    child = Table("c", (Column("id", SqlType(Kind.INTEGER), False),
                        Column("code", SqlType(Kind.STRING, length=5))), ("id",),
                  foreign_keys=(ForeignKey("c", ("code",), "p", ("code",)),))  # fmt: skip
    notes: list[str] = []
    out, _, dropped = filters.apply([parent, child], Selection(exclude_columns=("p.code",)),
                                    None, notes)  # fmt: skip
    assert dropped == {"p": ("code",)} and not out[1].foreign_keys
    assert any("FK_c_code" in n for n in notes)


def test_sync_refuses_a_masked_key_or_a_masked_or_missing_watermark_by_name(monkeypatch):
    from sluice.sync.run import check_columns
    from sluice.sync.watermarks import Watermark

    monkeypatch.setenv(masks.KEY_VARIABLE, "k")
    t = Table("t", (Column("k", SqlType(Kind.STRING, length=64), False),
                    Column("ts", SqlType(Kind.DATETIME)), Column("v", SqlType(Kind.INTEGER))),
              ("k",))  # fmt: skip
    mark = {"t": Watermark("column", "ts", 0)}
    masked = plan(Selection(mask=(("t.k", "hash"), ("t.ts", "null"))), (t,))
    with pytest.raises(ConfigError) as info:
        check_columns(masked, mark, deletes=True)
    assert "t: the watermark column 'ts' is masked" in str(info.value)
    assert "t: its key is masked" in str(info.value)
    keyed = plan(Selection(mask=(("t.k", "hash"),)), (t,))
    check_columns(keyed, mark, deletes=False)  # --no-deletes: a masked key is fine
    with pytest.raises(ConfigError, match="the watermark column 'ts' is left out"):
        check_columns(plan(Selection(exclude_columns=("t.ts",)), (t,)), mark, deletes=False)


@pytest.mark.parametrize("kind, native, lo, hi", [
    (Kind.INTEGER, "mediumint(9)", -(2**23), 2**23 - 1),
    (Kind.BIGINT, "int(10) unsigned", 0, 2**32 - 1),
    (Kind.INTEGER, "smallint(5) unsigned", 0, 2**16 - 1),
    (Kind.DECIMAL, "bigint(20) unsigned", None, None),  # not hashed: decimal
])  # fmt: skip
def test_a_hashed_integer_stays_inside_its_own_declaration(kind, native, lo, hi):
    my = get_dialect("mysql")
    t = SqlType(kind, native=native, engine="mysql")
    if lo is None:
        assert my.integer_bounds(t) == (0, 2**64 - 1)
        return
    assert my.integer_bounds(t) == (lo, hi)
    assert get_dialect("postgresql").integer_bounds(t) is None  # another engine's declaration
    f = masks.column_mask(Column("n", t), "hash", b"k", my)
    values = [f(i) for i in range(3000)]
    assert all(lo <= v <= hi for v in values)
    assert max(values) > (lo + hi) // 2 + (hi - lo) // 4  # spread over the range, not clipped


def test_job_files_and_dag_params_give_the_options_as_mappings_or_lists():
    """`where`, `exclude_columns` and `mask` are keys of job files (and DAG params) with no
    code of their own: read by the command's parser, as the flags would give them."""
    from sluice.cli.dagparams import job_namespace
    from sluice.cli.options import scope_settings

    mapped = {"where": {"Posts": "Score > 1", "sales.o": "a = 'x:y'"},
              "exclude_columns": ["Users.AboutMe", "sales.o.note"],
              "mask": {"Users.Email": "hash", "Users.Age": "fixed:0"}}  # fmt: skip
    listed = {"where": ["Posts: Score > 1", "sales.o: a = 'x:y'"],
              "exclude_columns": "Users.AboutMe,sales.o.note",
              "mask": ["Users.Email=hash", "Users.Age=fixed:0"]}  # fmt: skip
    for args in (job_namespace("copy", mapped), job_namespace("verify", listed)):
        got = scope_settings(args)
        assert got["where"] == (("Posts", "Score > 1"), ("sales.o", "a = 'x:y'"))
        assert got["exclude_columns"] == ("Users.AboutMe", "sales.o.note")
        assert got["mask"] == (("Users.Email", "hash"), ("Users.Age", "fixed:0"))
