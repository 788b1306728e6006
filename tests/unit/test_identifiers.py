"""`--identifiers preserve|lower|snake` (ADR 0017), without a server: the snake_case rule as a
table of cases, the names a plan carries for every derived name (tables, columns, keys,
indexes, foreign keys, schemas after --schema-map), the plan's JSON round trip, collisions
refused before anything is written, and the T-SQL a SQL Server target is given (compiled
with sqlglot; never run here)."""

from __future__ import annotations

import re

import pytest
from sqlglot import exp
from tests.unit.test_mssql_dialect import tsql

from sluice.copy.finish import landed
from sluice.copy.plan import Plan, plan_tables
from sluice.copy.refusals import Selection
from sluice.copy.staging import live_table, staging_table, sync_staging_table
from sluice.core.errors import ConfigError
from sluice.core.naming import convert, snake
from sluice.core.schema import Column, ForeignKey, Index, Table
from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect
from sluice.verify.quality import QualityRules, on_target

INT = SqlType(Kind.INTEGER)
TEXT = SqlType(Kind.STRING, length=50)

SNAKE_CASES = [
    ("Posts", "posts"),
    ("OwnerUserId", "owner_user_id"),
    ("Id", "id"),
    ("ID", "id"),
    ("AcceptedAnswerId", "accepted_answer_id"),
    ("HTMLBody", "html_body"),
    ("UserID", "user_id"),
    ("ABTest", "ab_test"),
    ("Col2D", "col2_d"),
    ("Col2", "col2"),
    ("Address2Line", "address2_line"),
    ("HTML5Parser", "html5_parser"),
    ("user_id", "user_id"),  # already snake: unchanged
    ("User_Id", "user_id"),  # no doubled underscore
    ("_Hidden", "_hidden"),
    ("PK_Posts__Id", "pk_posts__id"),  # existing underscores kept as they are
    ("My Column", "my column"),  # other characters kept: quoting carries them
    ("Last-Edit.Date", "last-edit.date"),
    ("ÉtéDate", "été_date"),  # letters beyond ASCII follow the same rule
    ("lowercase", "lowercase"),
    ("", ""),
]


@pytest.mark.parametrize(("name", "expected"), SNAKE_CASES)
def test_snake_case_rule(name, expected):
    assert snake(name) == expected
    assert convert(name, "snake") == expected


def test_lower_only_lower_cases_and_preserve_keeps():
    assert convert("OwnerUserId", "lower") == "owneruserid"
    assert convert("HTMLBody", "lower") == "htmlbody"
    assert convert("OwnerUserId", "preserve") == "OwnerUserId"
    with pytest.raises(ConfigError, match="preserve, lower, snake"):
        convert("x", "camel")


def users() -> Table:
    cols = (Column("Id", INT, False, True), Column("DisplayName", TEXT))
    return Table("Users", cols, ("Id",), primary_key_name="PK_Users__Id")


def posts(schema: str | None = None) -> Table:
    cols = (Column("Id", INT, False, True), Column("OwnerUserId", INT), Column("HTMLBody", TEXT))
    fk = ForeignKey("Posts", ("OwnerUserId",), "Users", ("Id",), schema, schema)
    ix = Index("IX_Posts_OwnerUserId", ("OwnerUserId",))
    return Table("Posts", cols, ("Id",), schema, (fk,), (ix,), "PK_Posts__Id")


def plan_of(tables, policy: str, target: str = "postgresql", **selection) -> Plan:
    stats = {t.key: (1, 10, 10) for t in tables}
    return plan_tables(tables, stats, "postgresql", target, "src", "dst",
                       selection=Selection(identifiers=policy, **selection))  # fmt: skip


def test_the_plan_carries_every_target_name():
    plan = plan_of([users(), posts()], "snake")
    assert plan.identifiers == "snake"
    tp = plan.table("Posts")  # plans, chunks and reports keep the source's keys
    assert [c.table for c in tp.chunks] == ["Posts"]
    t = tp.target
    assert (t.name, t.column_names, t.primary_key) == (
        "posts", ("id", "owner_user_id", "html_body"), ("id",))  # fmt: skip
    assert t.primary_key_name == "pk_posts__id"
    assert [(ix.name, ix.columns) for ix in t.indexes] == [
        ("ix_posts_owner_user_id", ("owner_user_id",))
    ]
    assert t.identity.name == "id"
    assert tp.table.column_names == ("Id", "OwnerUserId", "HTMLBody")  # the source's stay
    assert tp.target_column("OwnerUserId") == "owner_user_id"
    (fk,) = plan.foreign_keys
    assert fk.name == "FK_Posts_OwnerUserId"  # as the plan orders tables
    on_target = landed(plan, fk, "public")
    assert (on_target.table, on_target.columns, on_target.ref_table, on_target.ref_columns) == (
        "posts", ("owner_user_id",), "users", ("id",))  # fmt: skip
    assert on_target.name == "fk_posts_owner_user_id"
    stage = staging_table(get_dialect("postgresql"), t)
    assert stage.name == "_sluice_stage_posts"
    assert sync_staging_table(get_dialect("postgresql"), t).name == "_sluice_sync_posts"


def test_preserve_and_lower():
    kept = plan_of([users(), posts()], "preserve")
    assert kept.table("Posts").names is None
    assert kept.table("Posts").target == posts()
    assert landed(kept, kept.foreign_keys[0], None).name == "FK_Posts_OwnerUserId"
    low = plan_of([users(), posts()], "lower").table("Posts").target
    assert (low.name, low.column_names) == ("posts", ("id", "owneruserid", "htmlbody"))
    assert low.primary_key_name == "pk_posts__id"


def test_schemas_are_renamed_after_the_schema_map():
    plan = plan_of([users(), posts("Sales")], "snake", schema_map=(("Sales", "SalesArchive"),))
    tp = plan.table("Sales.Posts")
    assert (tp.target_schema, tp.target_key) == ("sales_archive", "sales_archive.posts")


def test_the_plan_round_trips_through_json():
    plan = plan_of([users(), posts()], "snake")
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.table("Posts").target.column_names == ("id", "owner_user_id", "html_body")
    fk = landed(again, again.foreign_keys[0], None)
    assert fk.name == "fk_posts_owner_user_id"


def test_column_collision_is_refused_naming_both_sources_and_the_target():
    t = Table("Badges", (Column("Id", INT, False), Column("UserId", INT), Column("user_id", INT)),
              ("Id",))  # fmt: skip
    with pytest.raises(ConfigError) as err:
        plan_of([t], "snake")
    text = str(err.value)
    assert "'UserId' and 'user_id' both become 'user_id'" in text and "Badges" in text
    plan_of([t], "preserve")  # distinct names as they are


def test_table_collision_is_refused_in_one_schema_only():
    a = Table("UserBadges", (Column("Id", INT, False),), ("Id",))
    b = Table("user_badges", (Column("Id", INT, False),), ("Id",))
    with pytest.raises(ConfigError, match="UserBadges and table user_badges both become"):
        plan_of([a, b], "snake")
    other = Table("user_badges", (Column("Id", INT, False),), ("Id",), "audit")
    plan = plan_of([a, other], "snake")  # another schema: no collision
    assert {t.target_key for t in plan.tables} == {"user_badges", "audit.user_badges"}


def test_index_names_collide_per_schema_on_postgresql_only():
    a = Table("Posts", (Column("Id", INT, False),), ("Id",), indexes=(Index("IxId", ("Id",)),))
    b = Table("Votes", (Column("Id", INT, False),), ("Id",), indexes=(Index("ix_id", ("Id",)),))
    plan = plan_of([a, b], "snake")  # the plan names PostgreSQL's second one after its table
    names = [ix.name for tp in plan.tables for ix in tp.target.indexes]
    assert names == ["ix_id", "votes_ix_id"]
    per_table = plan_of([a, b], "snake", "mysql")  # per table there: kept
    assert [ix.name for tp in per_table.tables for ix in tp.target.indexes] == ["ix_id", "ix_id"]


def test_dataset_quality_rules_follow_the_target_names():
    plan = plan_of([users(), posts()], "snake")
    rules = QualityRules.from_dict({"tables": {"Posts": {
        "required": ["HTMLBody"],
        "orphans": [{"columns": ["OwnerUserId"], "ref_table": "Users", "ref_columns": ["Id"]}],
    }}})  # fmt: skip
    moved = on_target(rules, plan.tables)
    assert set(moved.tables) == {"posts"}
    r = moved.for_table("posts")
    assert r.required == ("html_body",)
    fk = r.orphans[0].foreign_key
    assert (fk.table, fk.columns, fk.ref_table, fk.ref_columns) == (
        "posts", ("owner_user_id",), "users", ("id",))  # fmt: skip
    assert moved.problems() == []


def _names(statement: exp.Expression) -> set[str]:
    return {i.name for i in statement.find_all(exp.Identifier)}


def test_sql_server_target_statements_use_the_renamed_identifiers():
    """T-SQL compiled for a SQL Server target (sqlglot parses it; not run here)."""
    d = get_dialect("mssql")
    plan = plan_of([users(), posts()], "snake", "mssql")
    t = plan.table("Posts").target
    stage, live = staging_table(d, t), live_table(d, t)
    create = tsql(d.create_table_sql(stage)[0])
    assert {"owner_user_id", "html_body", "id"} <= _names(create)
    assert not {"OwnerUserId", "HTMLBody", "Id", "Posts"} & _names(create)
    fk_sql = d.add_foreign_key_sql(landed(plan, plan.foreign_keys[0], "dbo"),
                                   "fk_posts_owner_user_id")  # fmt: skip
    names = set().union(*(_bracketed(s) for s in fk_sql))  # WITH NOCHECK: sqlglot cannot parse
    assert {"fk_posts_owner_user_id", "posts", "owner_user_id", "users", "id"} <= names
    assert not {"OwnerUserId", "Users", "Posts", "Id"} & names
    (ix,) = t.indexes
    index = tsql(d.create_index_sql(stage, "_sluice_ix_tmp", ix.columns, ix.unique, ix.kind))
    assert "owner_user_id" in _names(index)
    upsert = set().union(*(_names(tsql(s)) for s in d.upsert_sql(live, stage)))
    assert {"posts", "owner_user_id", "html_body"} <= upsert
    assert not {"OwnerUserId", "HTMLBody"} & upsert
    rename = d.rename_constraint_sql(live, stage.primary_key_name, t.primary_key_name)[0]
    assert rename.endswith("N'pk_posts__id', N'OBJECT'")
    identity = " ".join(d.align_identity_sql(live, 11))
    assert "[dbo].[posts]" in identity and "Posts" not in identity


def _bracketed(sql: str) -> set[str]:
    """The bracket-quoted names in a T-SQL statement, as T-SQL reads them."""
    return {m.replace("]]", "]") for m in re.findall(r"\[((?:[^\]]|\]\])*)\]", sql)}


def test_sluice_plan_shows_the_target_names():
    import io

    from sluice.cli.plan import print_plan

    out = io.StringIO()
    print_plan(plan_of([users(), posts()], "snake"), file=out, width=120)
    text = out.getvalue()
    assert "Posts -> posts" in text and "OwnerUserId -> owner_user_id" in text
    assert "foreign key (created after the data): fk_posts_owner_user_id" in text


def test_a_converted_name_over_the_target_limit_is_refused():
    long = "A" + "Bc" * 31  # 63 characters; snake adds 30 underscores
    t = Table("T", (Column("Id", INT, False), Column(long, INT)), ("Id",))
    with pytest.raises(ConfigError, match="longer than the target's 63 characters"):
        plan_of([t], "snake")
    assert plan_of([t], "lower").table("T").target.column_names[1] == long.lower()


def test_enum_types_are_named_as_their_table_and_column_land():
    mood = SqlType(Kind.STRING, length=3, native="enum('sad','ok')", engine="mysql")
    t = Table("Moods", (Column("Id", INT, False), Column("MoodNow", mood)), ("Id",), "Sales")
    plan = plan_tables([t], {t.key: (1, 2, 2)}, "mysql", "postgresql", "s", "d",
                       selection=Selection(enums="type", identifiers="snake"),
                       defaults=("db", None))  # fmt: skip
    (enum,) = plan.native_types
    assert (enum.schema, enum.name) == ("sales", "moods_mood_now_enum")
    assert plan.table("Sales.Moods").target_schema == "sales"
