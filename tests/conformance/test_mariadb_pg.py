"""MariaDB <-> PostgreSQL edges (`mariadb_pg_cases.EDGES`), through the real servers.

Each case's table is created and filled on the source by SQL, copied alone, and both servers
are then read independently: their own text of each value (server-side casts), never sluice's
canonical encoder. An exact case must arrive value for value, in the target type the case
names, and `sluice verify` must pass; a refused case must fail naming what the case lists.
Then the schema objects: identities (SERIAL, a table without a key), index names and FULLTEXT.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan
from sluice.core.errors import SluiceError
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database
from tests.conformance.mariadb_pg_cases import EDGES, MY, PG, READ, TARGET, Edge
from tests.conformance.test_conformance import databases  # noqa: F401  (a fixture)


@pytest.fixture
def pair(request, databases):  # noqa: F811
    """(source URL, target URL) of one direction, made once per module."""
    source = request.param
    label = f"edges-{source}"
    return (databases(request, source, label, "source"),
            databases(request, TARGET[source], label, "target"))  # fmt: skip


def run_sql(url: DbUrl, statements: list[str], sql_mode: str | None = None) -> None:
    dialect = get_dialect(url.engine)
    conn = dialect.connect(url)
    try:
        cur = conn.cursor()
        if sql_mode is not None:
            cur.execute(f"SET SESSION sql_mode = '{sql_mode}'")
        for stmt in statements:
            cur.execute(stmt)
        conn.commit()
    finally:
        conn.close()


def query(url: DbUrl, sql: str, params: tuple = ()) -> list[tuple]:
    dialect = get_dialect(url.engine)
    conn = dialect.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql, params or None)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def create_source(url: DbUrl, case: Edge) -> None:
    q = get_dialect(url.engine).quote
    extra = f", {q('w')} {case.extra}" if case.extra else ""
    options = " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" if url.engine == MY else ""
    stmts = [f"CREATE TABLE {q(case.table)} ({q('id')} integer PRIMARY KEY, {q('v')} "
             f"{case.decl}{extra}){options}"]  # fmt: skip
    for key, literal in enumerate(case.values, start=1):
        value = "NULL" if literal is None else literal
        stmts.append(f"INSERT INTO {q(case.table)} ({q('id')}, {q('v')}) VALUES ({key}, {value})")
    run_sql(url, stmts, case.sql_mode if url.engine == MY else None)


def texts(url: DbUrl, case: Edge) -> dict[int, str | None]:
    """key -> the server's own text of v."""
    q = get_dialect(url.engine).quote
    expr = case.read.get(url.engine, READ[url.engine]).format(v=q("v"))
    rows = query(url, f"SELECT {q('id')}, {expr} FROM {q(case.table)} ORDER BY {q('id')}")
    return {int(k): None if t is None else _norm(str(t), case.norm) for k, t in rows}


def _norm(text: str, how: str) -> str:
    if how == "fraction":  # '100:00:00.000000' and '100:00:00' print one value
        return re.sub(r"\.?0+$", "", text) if re.search(r"\.\d+$", text) else text
    if how == "rstrip":
        return text.rstrip(" ")
    return text


def target_type(url: DbUrl, table: str, column: str = "v") -> str:
    if url.engine == PG:
        sql = ("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
               "WHERE attrelid = to_regclass(%s) AND attname = %s")  # fmt: skip
        return query(url, sql, (f'"{table}"', column))[0][0]
    sql = ("SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
           "AND TABLE_NAME = %s AND COLUMN_NAME = %s")  # fmt: skip
    return str(query(url, sql, (table, column))[0][0])


def _copy(source: DbUrl, target: DbUrl, tables: list[str], **options):
    """The copy's result, or the error text a user would read."""
    try:
        result = copy_database(source, target, CopyOptions(tables=tables, chunk_rows=2,
                                                           **options))  # fmt: skip
    except SluiceError as exc:
        return None, str(exc)
    return result, "; ".join(result.failures)


def _verify(source: DbUrl, target: DbUrl, tables: list[str], carry: bool = False) -> None:
    for native in (False, True):
        options = VerifyOptions(tables=tables, chunk_rows=2, rows=True, checks=False,
                                native=native, carry_as_text=carry)  # fmt: skip
        report = verify_database(source, target, options)
        assert report.ok, f"{tables}: verify (native={native}) found differences: " + "; ".join(
            f"{r.chunk.label} changed {r.changed} missing {r.missing} extra {r.extra}"
            for t in report.tables for r in t.mismatches
        )  # fmt: skip


def _verify_lossy(source: DbUrl, target: DbUrl, case: Edge) -> None:
    """A lossy copy never verifies as a MATCH when values changed, and the report says the
    column was lossy: the keys whose values changed (the expected ones) are named."""
    for native in (False, True):
        options = VerifyOptions(tables=[case.table], chunk_rows=100, rows=True, checks=False,
                                native=native)  # fmt: skip
        report = verify_database(source, target, options)
        assert not report.ok, f"{case.id}: a lossy copy that changed values verified as MATCH"
        assert any(f"{case.table}.v" in line for line in report.lossy), report.lossy
        changed = sorted(k[0] for r in report.tables[0].mismatches for k in r.changed)
        assert changed == sorted(case.expect), f"{case.id}: changed keys {changed}"


@pytest.mark.parametrize(
    "pair, case", [pytest.param(c.source, c, id=c.id) for c in EDGES], indirect=["pair"]
)
def test_edge_values(pair, case: Edge):
    source, target = pair
    create_source(source, case)
    result, error = _copy(source, target, [case.table], **case.options)
    if case.refused:
        assert result is None or not result.ok, f"{case.id}: copied, but must be refused"
        for fragment in case.refused:
            assert fragment in error, f"{case.id}: refusal lacks {fragment!r}: {error}"
        assert not re.search(r"\(\d{4}, '|Traceback|descriptor '", error), error  # no driver text
        return
    assert result is not None and result.ok, f"{case.id}: copy failed: {error}"
    assert target_type(target, case.table) == case.target_type
    want = texts(source, case)
    want.update(case.expect)
    got = texts(target, case)
    assert got == want, f"{case.id}: target {got} != source {want}"
    if case.options.get("zero_dates"):  # each zero date stored as NULL or -infinity, counted
        assert result.zero_dates == len(case.expect), f"{case.id}: {result.zero_dates} counted"
        assert result.zero_dates_as == ("NULL" if case.options["zero_dates"] == "null"
                                        else "-infinity")  # fmt: skip
    elif case.options.get("allow_lossy"):
        _verify_lossy(source, target, case)
    else:
        _verify(source, target, [case.table], case.options.get("carry_as_text", False))


# --- identities and schema objects -----------------------------------------------------------


@pytest.mark.parametrize("pair", [MY], indirect=True)
def test_serial_becomes_a_bigint_identity(pair):
    source, target = pair
    run_sql(source, ["CREATE TABLE s_serial (id SERIAL, v int)",
                     "INSERT INTO s_serial VALUES (1, 1), (9223372036854775807, 2)"])  # fmt: skip
    result, error = _copy(source, target, ["s_serial"])
    assert result is not None and result.ok, error
    assert target_type(target, "s_serial", "id") == "bigint"
    ident = query(target, "SELECT is_identity FROM information_schema.columns "
                          "WHERE table_name = 's_serial' AND column_name = 'id'")  # fmt: skip
    assert ident == [("YES",)]
    got = query(target, "SELECT id::text, v FROM s_serial ORDER BY id")
    assert got == [("1", 1), ("9223372036854775807", 2)]


@pytest.mark.parametrize("pair", [MY], indirect=True)
def test_serial_above_bigint_is_refused_naming_the_table(pair):
    source, target = pair
    run_sql(source, ["CREATE TABLE s_serial_big (id SERIAL, v int)",
                     "INSERT INTO s_serial_big VALUES (9223372036854775808, 1)"])  # fmt: skip
    result, error = _copy(source, target, ["s_serial_big"])
    assert result is None
    for fragment in ("'s_serial_big'", "'id'", "bigint(20) unsigned", "identity", "postgresql"):
        assert fragment in error, error


@pytest.mark.parametrize("pair", [PG], indirect=True)
def test_table_without_a_key_and_an_identity_reaches_mariadb(pair):
    source, target = pair
    run_sql(source, ['CREATE TABLE "s_nokey" ("id" serial, "name" text)',
                     "INSERT INTO \"s_nokey\" (\"name\") VALUES ('a'), ('b'), ('b')"])  # fmt: skip
    result, error = _copy(source, target, ["s_nokey"])
    assert result is not None and result.ok, error
    got = query(target, "SELECT CAST(id AS CHAR), name FROM s_nokey ORDER BY id")
    assert got == [("1", "a"), ("2", "b"), ("3", "b")]
    run_sql(target, ["INSERT INTO s_nokey (name) VALUES ('new')"])
    assert query(target, "SELECT id FROM s_nokey WHERE name = 'new'") == [(4,)]


@pytest.mark.parametrize("pair", [PG], indirect=True)
def test_every_unmappable_column_is_refused_at_once(pair):
    source, target = pair
    run_sql(source, ['CREATE TABLE "s_two" ("id" int PRIMARY KEY, "a" bit(100), "b" bit(65))',
                     'CREATE TABLE "s_three" ("id" int PRIMARY KEY, "c" bit(99))'])  # fmt: skip
    with pytest.raises(SluiceError) as err:
        build_plan(source, target, tables=["s_two", "s_three"])
    text = str(err.value)
    for fragment in ("'s_two', column 'a'", "column 'b'", "'s_three', column 'c'", "bit(99)"):
        assert fragment in text, text


@pytest.mark.parametrize("pair", [MY], indirect=True)
def test_index_names_unique_per_postgresql_schema(pair):
    source, target = pair
    run_sql(source, [
        "CREATE TABLE ix_a (id int PRIMARY KEY, v varchar(20), KEY ix_a (v), KEY shared (v))",
        "CREATE TABLE ix_b (id int PRIMARY KEY, v varchar(20), UNIQUE KEY shared (v))",
        "INSERT INTO ix_a VALUES (1, 'x'), (2, 'x')", "INSERT INTO ix_b VALUES (1, 'x')",
    ])  # fmt: skip
    plans = [build_plan(source, target, tables=["ix_a", "ix_b"]) for _ in range(2)]
    names = [[ix.name for t in p.tables for ix in t.table.indexes] for p in plans]
    assert names[0] == names[1], "index names must not depend on the run"
    assert len(set(names[0])) == len(names[0]) == 3
    result, error = _copy(source, target, ["ix_a", "ix_b"])
    assert result is not None and result.ok, error
    got = query(target, "SELECT tablename, indexname, indexdef LIKE 'CREATE UNIQUE%%' "
                        "FROM pg_indexes WHERE tablename IN ('ix_a', 'ix_b') "
                        "AND indexname NOT LIKE 'PK_%%' ORDER BY 1, 2")  # fmt: skip
    assert got == [("ix_a", "ix_a_ix_a", False), ("ix_a", "shared", False),
                   ("ix_b", "ix_b_shared", True)]  # fmt: skip


@pytest.mark.parametrize("pair", [MY], indirect=True)
def test_fulltext_index_is_skipped_with_a_plan_note(pair):
    source, target = pair
    run_sql(source, [
        "CREATE TABLE ft (id int PRIMARY KEY, body longtext, FULLTEXT KEY ft_body (body))",
        "INSERT INTO ft VALUES (1, REPEAT('word ', 5000))",
    ])  # fmt: skip
    plan = build_plan(source, target, tables=["ft"])
    assert any("FULLTEXT index 'ft_body' is not rebuilt" in n for n in plan.notes), plan.notes
    result, error = _copy(source, target, ["ft"])
    assert result is not None and result.ok, error
    assert query(target, "SELECT count(*) FROM pg_indexes WHERE tablename = 'ft'") == [(1,)]
    assert query(target, "SELECT length(body) FROM ft") == [(25000,)]
    _verify(source, target, ["ft"])


def test_edge_ids_are_unique():
    ids = [c.id for c in EDGES]
    assert len(ids) == len(set(ids))
    assert all(replace(c).table == f"e_{c.id}" for c in EDGES)


@pytest.mark.parametrize("pair", [MY], indirect=True)
def test_zero_dates_neg_infinity_needs_infinite_dates(pair, tmp_path):
    """-infinity only where the target's dates have it: refused before anything moves."""
    source, target = pair
    case = next(c for c in EDGES if c.id == "zero_date_neg_inf")
    create_source(source, replace(case, id="zero_neg_inf_refused"))
    lite = DbUrl.parse(f"sqlite:///{tmp_path / 'lite.db'}")
    result, error = _copy(source, lite, ["e_zero_neg_inf_refused"], zero_dates="-infinity")
    assert result is None
    assert "--zero-dates -infinity" in error and "sqlite has none" in error, error
    assert not (tmp_path / "lite.db").exists() or query(lite, "SELECT name FROM sqlite_master "
                                                        "WHERE type = 'table'") == []  # fmt: skip
    # into PostgreSQL: a changed value, never verified as a MATCH (verify stops at it)
    result, error = _copy(source, target, ["e_zero_neg_inf_refused"], zero_dates="-infinity")
    assert result is not None and result.ok, error
    options = VerifyOptions(tables=["e_zero_neg_inf_refused"], rows=True, checks=False)
    try:
        report = verify_database(source, target, options)
    except SluiceError as exc:
        assert "e_zero_neg_inf_refused" in str(exc) and "-infinity" in str(exc), str(exc)
    else:
        assert not report.ok


@pytest.mark.parametrize("pair", [PG], indirect=True)
def test_trailing_space_keys_stay_distinct_on_mariadb(pair, request, databases):  # noqa: F811
    """PostgreSQL keys 'a', 'a ' and 'a  ' are three keys; MariaDB's utf8mb4_bin (PAD SPACE)
    would call them one duplicate. The target's NO PAD binary collation keeps them apart, in
    the primary key and a unique index alike; verify passes and then, MariaDB -> MariaDB,
    the server digest and the canonical method agree, both naming a trailing space added."""
    source, target = pair
    run_sql(source, [
        'CREATE TABLE "sp" ("k" varchar(10) PRIMARY KEY, "u" varchar(10) UNIQUE, "v" text)',
        "INSERT INTO \"sp\" VALUES ('a', 'x', 'one'), ('a ', 'x ', 'two'), "
        "('a  ', 'x  ', 'three'), ('', '', 'four'), (' a', ' x', 'five')",
    ])  # fmt: skip
    result, error = _copy(source, target, ["sp"])
    assert result is not None and result.ok, error
    hexed = "SELECT HEX(k), HEX(u), v FROM sp ORDER BY v"
    assert query(target, hexed) == [
        (k.encode().hex().upper(), u.encode().hex().upper(), v)
        for k, u, v in query(source, 'SELECT "k", "u", "v" FROM "sp" ORDER BY "v"')
    ]
    assert query(target, "SELECT COUNT(*) FROM sp WHERE k = 'a'") == [(1,)]
    _verify(source, target, ["sp"])
    again = databases(request, MY, "edges-sp", "copy")  # MariaDB -> MariaDB, declarations kept
    result, error = _copy(target, again, ["sp"])
    assert result is not None and result.ok, error
    _verify(target, again, ["sp"])
    run_sql(again, ["UPDATE sp SET v = CONCAT(v, ' ') WHERE k = 'a '"])
    for native in (False, True):
        options = VerifyOptions(tables=["sp"], rows=True, checks=False, native=native)
        report = verify_database(target, again, options)
        changed = [k for r in report.tables[0].mismatches for k in r.changed]
        assert not report.ok and changed == [("a ",)], (native, changed)


@pytest.mark.parametrize("pair", [MY], indirect=True)
def test_skip_refused_skips_a_zero_date_found_mid_copy(pair):
    """A zero date is found only while copying: with --skip-refused its table is left out,
    named with column and key, its staging dropped and the key pointing at it not created;
    the table referencing it is copied and published."""
    source, target = pair
    run_sql(source, ["CREATE TABLE zp (id int PRIMARY KEY, d date)",
                     "INSERT INTO zp VALUES (1, '2020-01-01'), (2, '0000-00-00')",
                     "CREATE TABLE zc (id int PRIMARY KEY, p int, FOREIGN KEY (p) "
                     "REFERENCES zp (id))", "INSERT INTO zc VALUES (10, 1), (11, 2)"],
            sql_mode="")  # fmt: skip
    result, error = _copy(source, target, ["zp", "zc"])
    assert not result.ok and "table 'zp', column 'd', key 2" in error, error
    result, error = _copy(source, target, ["zp", "zc"], skip_refused=True)
    assert result is not None and result.ok, error
    assert [(s.table, s.reason[:22]) for s in result.refused] == [("zp", "column 'd', key 2: '00")]
    # the other tables of the shared source are skipped as "not in --tables" (ADR 0014)
    refused = [s for s in result.plan.skipped if s.reason != "not in --tables"]
    assert refused == list(result.refused) and list(result.tables) == ["zc"]
    assert any("zp is skipped" in n for n in result.plan.notes), result.plan.notes
    tables = query(target, "SELECT tablename FROM pg_tables WHERE tablename LIKE '%%z_'")
    assert tables == [("zc",)], tables
    assert query(target, "SELECT id, p FROM zc ORDER BY id") == [(10, 1), (11, 2)]


@pytest.mark.parametrize("pair", [MY], indirect=True)
def test_enums_type_makes_a_postgresql_enum(pair):
    """--enums type: the plan shows each ENUM as an enum type named after its column, ''
    first (the error value) then the members in order, which sorts as MariaDB sorts; a
    second copy finds the same type; verify passes. A member over PostgreSQL's 63-byte label
    keeps its column a varchar, with a plan note."""
    from sluice.copy.refusals import Selection

    source, target = pair
    long = "y" * 70
    run_sql(source, [
        f"CREATE TABLE en (id int PRIMARY KEY, v enum('b','a','c') NOT NULL, "
        f"w enum('short','{long}'))",
        f"INSERT INTO en VALUES (1, 'a', 'short'), (2, 'c', '{long}'), (3, 'b', NULL)",
    ])  # fmt: skip
    plan = build_plan(source, target, tables=["en"], selection=Selection(enums="type"))
    maps = {c.name: c for c in plan.tables[0].columns}
    assert (maps["v"].target_type, maps["v"].fidelity) == ('"public"."en_v_enum"', "exact")
    assert maps["w"].target_type == "VARCHAR(70)"
    assert any("en.w: --enums type" in n for n in plan.notes), plan.notes
    assert [t.ddl for t in plan.native_types] == [
        """CREATE TYPE "public"."en_v_enum" AS ENUM ('', 'b', 'a', 'c')"""
    ]
    assert build_plan(source, target, tables=["en"]).tables[0].columns[1].target_type == (
        "VARCHAR(1)"
    )  # the default stays a varchar
    for _ in range(2):  # the second copy finds the type made by the first
        result, error = _copy(source, target, ["en"], enums="type")
        assert result is not None and result.ok, error
    labels = query(target, "SELECT enumlabel FROM pg_enum WHERE enumtypid = "
                           "'en_v_enum'::regtype ORDER BY enumsortorder")  # fmt: skip
    assert labels == [("",), ("b",), ("a",), ("c",)]
    assert target_type(target, "en") == "en_v_enum"
    order = "SELECT id FROM en ORDER BY v"
    assert query(target, order) == query(source, order) == [(3,), (1,), (2,)]
    _verify(source, target, ["en"])
