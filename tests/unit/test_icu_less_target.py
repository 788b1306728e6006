"""A PostgreSQL built without ICU (the embedded one) cannot make a case-insensitive or ICU
collation: the plan lists each such column as not carried and makes it with the target's
default collation, instead of failing the copy at CREATE COLLATION."""

from __future__ import annotations

import os

import pytest

from sluice.copy.definition import needs_icu, without_icu
from sluice.copy.plan import Plan, TablePlan
from sluice.core.schema import Column, NativeType, Table
from sluice.core.types import Kind, SqlType

TEXT = SqlType(Kind.STRING, length=20)


def _plan() -> Plan:
    table = Table("users", (
        Column("id", SqlType(Kind.INTEGER), False),
        Column("email", TEXT, collation="public.ci", case_insensitive=True),
        Column("nick", TEXT, collation="utf8mb4_general_ci", case_insensitive=True),
        Column("code", TEXT, collation='pg_catalog."C"', case_insensitive=False),
        Column("tag", TEXT, collation="public.icu_det", case_insensitive=False),
    ), primary_key=("id",))  # fmt: skip
    made = (("ci", "false"), ("icu_det", "true"))
    icu = [NativeType("postgresql", "collation", "public", n,
                      f"CREATE COLLATION IF NOT EXISTS public.{n} (provider = icu, "
                      f"locale = 'und', deterministic = {d})") for n, d in made]  # fmt: skip
    return Plan("src", "dst", "postgresql", "postgresql", (TablePlan(table, (), (), 3),),
                native_types=tuple(icu))  # fmt: skip


def test_an_icu_less_target_lists_each_icu_column_and_makes_no_icu_collation():
    plan = _plan()
    assert needs_icu(plan)
    assert without_icu(plan, ready=True) is plan
    less = without_icu(plan, ready=False)
    columns = {c.name: c for c in less.tables[0].table.columns}
    assert columns["email"].collation is None and columns["nick"].collation is None
    assert columns["tag"].collation is None  # its ICU collation is not made either
    assert columns["code"].collation == 'pg_catalog."C"'  # libc: kept
    assert less.native_types == ()
    listed = {n.key: n for n in less.not_carried}
    assert set(listed) == {"users.email", "users.nick", "users.tag"}
    assert all("without ICU" in n.reason for n in listed.values())
    assert listed["users.email"].ddl == "COLLATE public.ci"


@pytest.mark.skipif(not os.environ.get("SLUICE_TEST_PG_URL"), reason="needs SLUICE_TEST_PG_URL")
def test_icu_ready_says_what_the_server_can_make():
    import psycopg

    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    url = os.environ["SLUICE_TEST_PG_URL"]
    with psycopg.connect(url) as c:  # the same probe, independently
        try:
            c.execute("CREATE COLLATION pg_temp.probe (provider = icu, locale = 'und')")
            expected = True
        except psycopg.errors.FeatureNotSupported:
            expected = False
        c.rollback()
    assert get_dialect("postgresql").icu_ready(DbUrl.parse(url)) is expected
