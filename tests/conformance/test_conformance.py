"""Run the conformance data in `cases.py` for every testable (source, target) pair.

Each pair gets one source and one target database for the module; each case creates its
own tables in the source with plain SQL, inserts its rows through the driver, copies just
those tables with `copy_database`, and compares what the target returns, value by value.
MySQL pairs skip when SLUICE_TEST_MYSQL_URL is unset. PostgreSQL sessions run with
PGTZ=Europe/Berlin, so any time-zone shift of a naive timestamp shows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database
from tests.conformance.cases import (
    BULK_CASES,
    CASES,
    FIDELITY_CASES,
    IDENTITY_CASES,
    LITE,
    MY,
    PAIRS,
    PG,
    Case,
    TableData,
    Val,
)
from tests.conformance.hostile_cases import HOSTILE_CASES
from tests.conftest import _fresh

PGTZ = "Europe/Berlin"
MARK = {PG: "%s", MY: "%s", LITE: "?"}  # the drivers' parameter markers


# --- how each target engine legitimately represents a canonical value ------------------------


def _iso(cls) -> Callable[[Any], Any]:
    return lambda v: cls.fromisoformat(v) if isinstance(v, str) else v


def _json(v: Any) -> Any:
    import json

    return json.loads(v) if isinstance(v, (str, bytes)) else v


def _time_of(v: Any) -> Any:
    if isinstance(v, dt.timedelta):  # MySQL TIME is an interval; PyMySQL returns timedelta
        return (dt.datetime.min + v).time()
    return v


# target engine -> {type of the expected value: conversion of what the driver returned}
READBACK: dict[str, dict[type, Callable[[Any], Any]]] = {
    PG: {},
    MY: {
        bool: lambda v: bool(v) if isinstance(v, int) and v in (0, 1) else v,
        uuid.UUID: lambda v: uuid.UUID(v) if isinstance(v, str) else v,
        dt.time: _time_of,
        dict: _json,
        list: _json,
    },
    LITE: {
        bool: lambda v: bool(v) if isinstance(v, int) and v in (0, 1) else v,
        uuid.UUID: lambda v: uuid.UUID(v) if isinstance(v, str) else v,
        dt.date: _iso(dt.date),
        dt.datetime: _iso(dt.datetime),
        dt.time: _iso(dt.time),
        Decimal: lambda v: Decimal(str(v)) if isinstance(v, (int, float, str)) else v,
        dict: _json,
        list: _json,
    },
}

# How the test reads a column back where a plain SELECT would not show the stored value.
READ_AS = {MY: {"float4": "CAST({col} AS DOUBLE)"}}  # FLOAT as text has 6 digits only

# Whether a target keeps a decimal's declared scale (12.3400 stays 12.3400, not 12.34).
DECIMAL_SCALE_KEPT = {PG: True, MY: True, LITE: False}


@dataclass(frozen=True)
class Dbs:
    source: str
    target: str
    source_url: DbUrl
    target_url: DbUrl

    @property
    def label(self) -> str:
        return f"{self.source}->{self.target}"


@contextmanager
def _database(request, engine: str, role: str) -> Iterator[DbUrl]:
    if engine == "sqlite":
        yield DbUrl.parse(
            f"sqlite:///{request.getfixturevalue('tmp_path_factory').mktemp(role)}/db"
        )
        return
    server = request.getfixturevalue("pg_server" if engine == "postgresql" else "mysql_server")
    fresh = _fresh(server, f"sluice_conf_{role}")
    try:
        yield next(fresh)
    finally:
        next(fresh, None)


@pytest.fixture(scope="module")
def databases(request):
    """Databases made on first use and kept for the module: one per (pair, role)."""
    made: dict[tuple[str, ...], DbUrl] = {}
    with ExitStack() as stack, pytest.MonkeyPatch.context() as mp:
        mp.setenv("PGTZ", PGTZ)

        def get(req, engine: str, *key: str) -> DbUrl:
            if (engine, *key) not in made:
                made[(engine, *key)] = stack.enter_context(_database(req, engine, key[-1]))
            return made[(engine, *key)]

        yield get


@pytest.fixture
def dbs(request, databases) -> Dbs:
    """The source and target databases of one (source, target) pair (indirect parameter)."""
    source, target = request.param
    pair = f"{source}-{target}"
    src = databases(request, source, pair, "source")
    return Dbs(source, target, src, databases(request, target, pair, "target"))


@pytest.fixture
def target_db(request, databases) -> tuple[str, DbUrl]:
    return request.param, databases(request, request.param, "bulk")


def _params(items, applies, ident) -> list:
    """(pair, item) parameters for every pair an item applies to, xfail where it names a bug."""
    out = []
    for source, target in PAIRS:
        for item in (i for i in items if applies(i, source, target)):
            why = item.xfail_reason(source, target)
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            label = f"{source}-{target}-{ident(item)}"
            out.append(pytest.param((source, target), item, marks=marks, id=label))
    return out


# --- moving values in and out -----------------------------------------------------------------


def _input(engine: str, value: Any) -> Any:
    """A canonical value as the test's own driver call inserts it into `engine`."""
    if engine == PG and isinstance(value, (dict, list)):
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    if engine in (MY, LITE) and isinstance(value, uuid.UUID):
        return str(value)  # neither has a uuid type: the column is text
    if engine == LITE and isinstance(value, (dt.date, dt.time)):
        return value.isoformat(" ") if isinstance(value, dt.datetime) else value.isoformat()
    if engine == LITE and isinstance(value, Decimal):
        return str(value)  # sqlite3 cannot bind Decimal; NUMERIC affinity converts the text
    return value


def _cells(row: Sequence[Any]) -> list[Val]:
    return [c if isinstance(c, Val) else Val(c) for c in row]


def _rows_for(t: TableData, source: str, target: str) -> list[list[Val]]:
    rows = [_cells(r) for r in t.rows]
    return [r for r in rows if all(c.applies(source, target) for c in r)]


def load_source(d: Dbs, case: Case) -> None:
    dialect = get_dialect(d.source)
    conn = dialect.connect(d.source_url)
    try:
        cur = conn.cursor()
        for stmt in case.ddl[d.source]:
            cur.execute(stmt)
        for t in case.tables:
            cols = ", ".join(dialect.quote(c) for c in t.columns)
            head = f"INSERT INTO {dialect.quote(t.name)} ({cols})"
            if MARK[d.source] == "%s":  # the driver formats the text: a literal % is %%
                head = head.replace("%", "%%")
            marks = ", ".join([MARK[d.source]] * len(t.columns))
            rows = [
                [_input(d.source, c.value) for c in row] for row in _rows_for(t, d.source, d.target)
            ]
            if rows:
                cur.executemany(f"{head} VALUES ({marks})", rows)
        conn.commit()
    finally:
        conn.close()


def read_table(
    engine: str, url: DbUrl, name: str, columns: Sequence[str], key, compares=()
) -> list[tuple]:
    """Rows of the table in key order; `compares` (per column) picks `READ_AS` expressions."""
    dialect = get_dialect(engine)
    conn = dialect.connect(url)
    try:
        cur = conn.cursor()
        order = " ORDER BY " + ", ".join(dialect.quote(k) for k in key) if key else ""
        how = dict(zip(columns, compares))
        cols = ", ".join(
            READ_AS.get(engine, {}).get(how.get(c), "{col}").format(col=dialect.quote(c))
            for c in columns
        )
        cur.execute(f"SELECT {cols} FROM {dialect.quote(name)}{order}")
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def _f32(x: float) -> float | None:
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return None


def same(actual: Any, expected: Any, how: str, target: str) -> bool:
    """Whether the target's value is the expected canonical value (strict about types)."""
    actual = READBACK[target].get(type(expected), lambda v: v)(actual)
    if expected is None or actual is None:
        return actual is expected
    if how == "json":
        return isinstance(actual, str) and json.loads(actual) == json.loads(expected)
    if isinstance(expected, float):
        if type(actual) is not float:
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        if how == "float4":
            return _f32(actual) == _f32(expected)
        return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)
    if isinstance(expected, Decimal):
        scale_ok = not DECIMAL_SCALE_KEPT[target] or (
            actual.as_tuple().exponent == expected.as_tuple().exponent
        )
        return type(actual) is Decimal and actual == expected and scale_ok
    if isinstance(expected, dt.datetime) and expected.tzinfo is not None:
        return isinstance(actual, dt.datetime) and actual.tzinfo is not None and actual == expected
    return type(actual) is type(expected) and actual == expected


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text)} characters as repr)"


def mismatches(label: str, target: str, t: TableData, expected_rows, actual_rows) -> list[str]:
    """One line per differing value: pair, table, column and row named."""
    problems = []
    if len(actual_rows) != len(expected_rows):
        problems.append(
            f"{label} table {t.name!r}: {len(actual_rows)} rows arrived, "
            f"{len(expected_rows)} expected"
        )
    keyed = t.key is not None
    for n, (want, got) in enumerate(zip(expected_rows, actual_rows)):
        where = f"key {want[0][0]!r}" if keyed else f"row {n} (unkeyed, sorted)"
        for col, (value, how), actual in zip(t.columns, want, got):
            if not same(actual, value, how, target):
                problems.append(
                    f"{label} table {t.name!r} column {col!r} {where}: "
                    f"expected {_show(value)}, got {_show(actual)}"
                )
    return problems


def _compares(expected: list[list[tuple[Any, str]]], width: int) -> list[str]:
    """Per column, the comparison its values ask for ("exact" unless one says otherwise)."""
    return [next((r[i][1] for r in expected if r[i][1] != "exact"), "exact") for i in range(width)]


def _sort_key(row: Sequence[Any]) -> tuple:
    return tuple((v is None, repr(v)) for v in row)


# --- the suite --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dbs, case",
    _params(CASES + HOSTILE_CASES, lambda c, s, t: c.applies(s, t), lambda c: c.id),
    indirect=["dbs"],
)
def test_copy_preserves_values(dbs: Dbs, case: Case):
    load_source(dbs, case)
    options = CopyOptions(tables=[t.name for t in case.tables], chunk_rows=case.chunk_rows)
    result = copy_database(dbs.source_url, dbs.target_url, options)
    assert result.ok, f"{dbs.label} {case.id}: copy failed: {result.failures}"
    _check_raw_import_used(dbs, result, hostile=case in HOSTILE_CASES)
    problems = []
    for t in case.tables:
        rows = _rows_for(t, dbs.source, dbs.target)
        expected = [[(c.expected(dbs.source, dbs.target), c.compare) for c in r] for r in rows]
        how = _compares(expected, len(t.columns))
        actual = read_table(dbs.target, dbs.target_url, t.name, t.columns, t.key, how)
        chunks = result.plan.table(t.name).chunks
        if t.key is None:  # copied whole: one chunk, rows compared as a multiset
            assert len(chunks) == 1, f"{dbs.label} {t.name!r}: unkeyed table cut in {chunks}"
            expected.sort(key=lambda r: _sort_key([v for v, _ in r]))
            actual.sort(key=_sort_key)
        elif len(rows) > case.chunk_rows:  # keyed tables cross chunk boundaries
            assert len(chunks) > 1, f"{dbs.label} {t.name!r}: expected several chunks"
        problems += mismatches(dbs.label, dbs.target, t, expected, actual)
    assert not problems, f"{len(problems)} value(s) differ:\n" + "\n".join(problems[:30])
    # and verification agrees: both sides' values encode canonically to the same digests
    # (client-side canonical encoding, and the server-side digest where the pair has one)
    names = [t.name for t in case.tables]
    for native in (False, True) if case.canonical else (True,):
        verify = VerifyOptions(tables=names, chunk_rows=case.chunk_rows, rows=True,
                               checks=False, native=native)  # fmt: skip
        report = verify_database(dbs.source_url, dbs.target_url, verify)
        assert report.ok, f"{dbs.label} {case.id}: verify (native={native}): " + "; ".join(
            f"{r.chunk.label} changed {r.changed} missing {r.missing} extra {r.extra}"
            for t in report.tables for r in t.mismatches
        )  # fmt: skip


def _check_raw_import_used(dbs: Dbs, result, hostile: bool = False) -> None:
    """Where the target loads the source's raw export (PostgreSQL CSV -> MySQL LOAD DATA,
    MySQL-rendered CSV -> PostgreSQL COPY), tables of those kinds must have gone that way: the
    suite checks that path's values. Only a hostile case may need its chunks decoded again
    (a zero date or a NUL character the target's loader refuses)."""
    src, dst = get_dialect(dbs.source), get_dialect(dbs.target)
    fmt = dst.raw_import_format
    if fmt not in src.raw_export_formats or dbs.source == dbs.target:
        return
    assert dst.raw_import_ready(dbs.target_url), f"{dbs.label}: server refuses {fmt}"
    exported = src.raw_export_kinds.get(fmt)
    for tp in result.plan.tables:
        kinds = [c.type.kind for c in tp.table.columns]
        raw = all(k in dst.raw_import_kinds and (exported is None or k in exported)
                  for k in kinds)  # fmt: skip
        if raw and all(m.fidelity != "lossy" for m in tp.columns) and not tp.masks:
            assert tp.raw_format == fmt, f"{dbs.label} {tp.name}: decoded"
            again = result.tables[tp.name].decoded_again
            assert hostile or not again, (
                f"{dbs.label} {tp.name}: raw load rejected, {again} chunk(s) decoded"
            )


@pytest.mark.parametrize(
    "dbs, case",
    _params(IDENTITY_CASES, lambda c, s, t: s in c.ddl, lambda c: f"identity_{c.id}"),
    indirect=["dbs"],
)
def test_identity_continues_after_max(dbs: Dbs, case):
    rows = tuple((k, f"row {k}") for k in case.keys)
    data = TableData(case.table, ("id", "name"), rows)
    load_source(dbs, Case(case.id, {dbs.source: (case.ddl[dbs.source],)}, (data,)))
    result = copy_database(dbs.source_url, dbs.target_url, CopyOptions(tables=[case.table]))
    assert result.ok, f"{dbs.label} {case.table}: copy failed: {result.failures}"
    got = read_table(dbs.target, dbs.target_url, case.table, ("id", "name"), ("id",))
    assert got == sorted(rows), f"{dbs.label} {case.table}: keys changed in the copy"
    dialect = get_dialect(dbs.target)
    conn = dialect.connect(dbs.target_url)
    try:
        cur = conn.cursor()
        table, name, key = (dialect.quote(x) for x in (case.table, "name", "id"))
        cur.execute(f"INSERT INTO {table} ({name}) VALUES ('new')")
        cur.execute(f"SELECT {key} FROM {table} WHERE {name} = 'new'")
        new_key = cur.fetchone()[0]
        conn.commit()
    finally:
        conn.close()
    assert new_key == max(case.keys) + 1, (
        f"{dbs.label} {case.table}: a row without a key got {new_key}, "
        f"expected max(key) + 1 = {max(case.keys) + 1}"
    )


@pytest.mark.parametrize(
    "dbs, case",
    [
        pytest.param(
            (c.source, c.target), c, id=f"{c.source}-{c.target}-{c.decl}",
            marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [],
        )
        for c in FIDELITY_CASES
    ],
    indirect=["dbs"],
)  # fmt: skip
def test_plan_flags_what_the_target_cannot_hold(dbs: Dbs, case):
    table = "fid_" + "".join(ch if ch.isalnum() else "_" for ch in case.decl)
    dialect = get_dialect(dbs.source)
    conn = dialect.connect(dbs.source_url)
    try:
        q = dialect.quote
        conn.cursor().execute(f"CREATE TABLE {q(table)} ({q('id')} integer PRIMARY KEY, "
                              f"{q('v')} {case.decl})")  # fmt: skip
        conn.commit()
    finally:
        conn.close()
    plan = build_plan(dbs.source_url, dbs.target_url, tables=[table])
    v = next(c for c in plan.table(table).columns if c.name == "v")
    assert v.fidelity == case.fidelity, (
        f"{dbs.label} {case.decl} -> {v.target_type}: planned {v.fidelity!r}, "
        f"expected {case.fidelity!r}"
    )


# --- the bulk path and the plain INSERT path store identical rows -----------------------------


@pytest.mark.parametrize(
    "target_db, case",
    [
        pytest.param(
            engine, c, id=f"{engine}-{c.id}",
            marks=[pytest.mark.xfail(strict=True, reason=why)]
            if (why := c.xfail_reason(engine, engine)) else [],
        )
        for engine in (PG, MY, LITE)
        for c in BULK_CASES
        if engine in c.targets
    ],
    indirect=["target_db"],
)  # fmt: skip
def test_bulk_and_insert_paths_store_identical_rows(target_db, case: Case):
    """The same rows through `bulk_load` and `insert_rows` (after the encode converters)."""
    engine, url = target_db
    dialect = get_dialect(engine)
    fidelity, note = dialect.fidelity(case.neutral)
    if fidelity == "lossy":
        pytest.skip(f"{engine} cannot store {case.id} exactly ({note}); a copy refuses it")
    columns = (Column("id", SqlType(Kind.INTEGER), nullable=False), Column("v", case.neutral))
    bulk = Table(f"bulk_{case.id}", columns, ("id",), schema=dialect.caps.default_schema)
    plain = replace(bulk, name=f"insert_{case.id}")
    cells = _rows_for(case.tables[0], engine, engine)
    encode = dialect.encode_converters(bulk)
    rows = [
        tuple(f(c.value) if f and c.value is not None else c.value for f, c in zip(encode, r))
        for r in cells
    ]
    conn = dialect.connect(url)
    try:
        cur = conn.cursor()
        for table in (bulk, plain):
            for stmt in dialect.create_table_sql(table):
                cur.execute(stmt)
        conn.commit()
        assert dialect.bulk_load(conn, bulk, iter(rows)) == len(rows)
        assert dialect.insert_rows(conn, plain, iter(rows)) == len(rows)
        conn.commit()
    finally:
        conn.close()
    expected = [[(c.expected(engine, engine), c.compare) for c in r] for r in cells]
    how = _compares(expected, 2)
    got_bulk = read_table(engine, url, bulk.name, ("id", "v"), ("id",), how)
    got_plain = read_table(engine, url, plain.name, ("id", "v"), ("id",), how)
    assert len(got_bulk) == len(got_plain) == len(rows)
    for a, b in zip(got_bulk, got_plain):
        assert repr(a) == repr(b), f"{engine} {case.id} key {a[0]}: {_show(a)} != {_show(b)}"
    data = TableData(bulk.name, ("id", "v"), ())
    problems = mismatches(f"{engine} bulk path", engine, data, expected, got_bulk)
    assert not problems, "\n".join(problems[:30])
