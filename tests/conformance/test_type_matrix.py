"""The type matrix (`type_matrix.MATRIX`) through the real servers: for every live pair with a
PostgreSQL, MariaDB or SQLite source, the source gets one table per outcome (one column per
type, its edge values in rows), the copy runs, and both databases are read independently:
the servers' own text of each value (server-side casts, HEX, ST_AsBinary), SQLite's file
through the standard sqlite3 module; never sluice's encoder.

* exact (and widening) columns arrive value for value, in the declaration the matrix names;
* lossy columns are refused without --allow-lossy (naming table.column) and copied with it;
* refused columns stop the plan naming table, column, type and the carrying option; those
  --carry-as-text carries arrive as the source server's own text;
* a value a target cannot hold (`To.bad`) fails its table naming table, column and key.

SQL Server, at compile level: the plan's declarations for a SQL Server target (every live
source row) and from a SQL Server source (`MS_ROWS`, to every engine), and the CREATE TABLE
the SQL Server dialect writes for them, parsed by sqlglot's T-SQL parser.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
import struct
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation

import psycopg
import pytest
import sqlglot
from sqlglot import exp

from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan, plan_tables
from sluice.copy.refusals import Selection
from sluice.core.errors import SluiceError
from sluice.core.schema import Column, Table
from sluice.core.types import Kind, SqlType
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.dialects.mssql import parse_type
from sluice.dialects.mssql_native import with_native
from tests import independent
from tests.conformance.type_matrix import (
    CARRY,
    ENGINES,
    LITE,
    LIVE,
    MATRIX,
    MS,
    MY,
    PG,
    Row,
    rows_from,
    setup_for,
)
from tests.conftest import _fresh

SHORT = {PG: "pg", MY: "my", LITE: "lite", MS: "ms"}
WIDTH = 30  # columns per exact table: a failing type is found among few
# MariaDB sessions of the independent reads and writes (tests.independent: UTC, no sluice code)
MY_MODE = {"sql_mode": "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"}

# family -> engine -> the server's own text of {v} (SQLite: the stored value itself)
_TEXT = {PG: "{v}::text", MY: "CAST({v} AS CHAR)", LITE: "{v}"}
_HEX = {PG: "encode({v}, 'hex')", MY: "LOWER(HEX({v}))",
        LITE: "CASE WHEN {v} IS NULL THEN NULL ELSE lower(hex({v})) END"}  # fmt: skip
READS = {
    "text": _TEXT, "int": _TEXT, "decimal": _TEXT, "rstrip": _TEXT, "fraction": _TEXT,
    "lower": _TEXT, "instant": _TEXT, "bytes": _HEX,
    "float": {PG: "{v}::float8::text", MY: "CAST(CAST({v} AS DOUBLE) AS CHAR)", LITE: "{v}"},
    # single precision: a value is the float4 it rounds to (psql's '0.1' is 0.1f)
    "float4": {PG: "{v}::float8::text", MY: "CAST(CAST({v} AS DOUBLE) AS CHAR)", LITE: "{v}"},
    "bool": {PG: "CASE WHEN {v} THEN '1' WHEN NOT {v} THEN '0' END", MY: "CAST({v} AS CHAR)",
             LITE: "{v}"},
    "year": {PG: "{v}::text", MY: "CAST({v} + 0 AS CHAR)", LITE: "{v}"},
    "wkb": {**_HEX, MY: "LOWER(HEX(ST_AsBinary({v})))"},
    # PostgreSQL's output function's text (what --carry-as-text carries)
    "pgtext": {PG: "CASE WHEN {v} IS NULL THEN NULL ELSE format('%s', {v}) END",
               MY: "CAST({v} AS CHAR)", LITE: "{v}"},
    **{f"bits{n}": {PG: "{v}::text", MY: f"LPAD(BIN({{v}}), {n}, '0')"} for n in (1, 5, 64)},
}  # fmt: skip


def _norm(family: str, value):
    """A read value in a form both engines' texts of one value share."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    text = str(value)
    if family == "decimal":
        try:
            d = Decimal(text)
        except InvalidOperation:
            return text
        return "NaN" if d.is_nan() else d
    if family in ("float", "float4"):
        f = float(text)
        if family == "float4" and not math.isinf(f):
            f = struct.unpack("f", struct.pack("f", f))[0]
        return "nan" if math.isnan(f) else f
    if family in ("int", "year") and re.fullmatch(r"-?\d+", text):
        return str(int(text))
    if family == "rstrip":
        return text.rstrip(" ")
    if family == "lower":
        return text.lower()
    if family == "fraction" and re.search(r"\.\d+$", text):
        return re.sub(r"\.?0+$", "", text)
    if family == "instant":
        t = dt.datetime.fromisoformat(text) if text[:1].isdigit() else text
        return t.astimezone(dt.timezone.utc) if isinstance(t, dt.datetime) else t
    return text


def quote(engine: str, name: str) -> str:
    return f"`{name}`" if engine == MY else f'"{name}"'


# --- the source tables: per target, one table per outcome --------------------------------------


# (source engine, declaration) this run's server cannot hold values of: the embedded
# PostgreSQL wheel is built without libxml, so its xml type takes no value
UNSUPPORTED: set[tuple[str, str]] = set()


def _rows(source: str) -> list[Row]:
    return [r for r in rows_from(source) if (source, r.decl) not in UNSUPPORTED]


def _server_lacks(url: DbUrl) -> set[tuple[str, str]]:
    """The matrix rows `url`'s server was built without (said as a warning, not hidden)."""
    if url.engine != PG:
        return set()
    try:
        independent.rows(url, "SELECT '<a/>'::xml")
    except psycopg.errors.FeatureNotSupported:
        warnings.warn("PostgreSQL without libxml: the matrix's xml row is left out "
                      "(tests/integration/test_pg_native_types.py tests xml as text)",
                      stacklevel=2)  # fmt: skip
        return {(PG, "xml")}
    return set()


def outcome_tables(source: str, target: str) -> dict[str, list[Row]]:
    """table name -> its rows (one column each) for the copy of `source` rows to `target`."""
    t = SHORT[target]
    rows = _rows(source)
    ok = [r for r in rows if r.to[target].outcome in ("exact", "widening")]
    tables = {f"ok_{t}_{i // WIDTH}": ok[i : i + WIDTH] for i in range(0, len(ok), WIDTH)}
    tables[f"lossy_{t}"] = [r for r in rows if r.to[target].outcome == "lossy"]
    refused = [r for r in rows if r.to[target].outcome == "refused"]
    tables[f"refused_{t}"] = [r for r in refused if r.to[target].option != CARRY]
    tables[f"carried_{t}"] = [r for r in refused if r.to[target].option == CARRY]
    return {name: cols for name, cols in tables.items() if cols}


def bad_tables(source: str, target: str) -> dict[str, Row]:
    """table name -> the row whose values `target` refuses one by one."""
    t = SHORT[target]
    return {f"bad_{t}_{i}": r for i, r in enumerate(_rows(source)) if r.to[target].bad}


def _values(row: Row, target: str, bad: bool = False) -> list[str | None]:
    refused = set(row.to[target].bad)
    return [v for v in row.values if (v in refused) == bad]


def _create(source: str, name: str, rows: list[Row], target: str, bad: bool = False):
    q = lambda n: quote(source, n)  # noqa: E731
    cols = ", ".join(f"{q(r.column)} {r.decl}" for r in rows)
    options = " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" if source == MY else ""
    stmts = [f"CREATE TABLE {q(name)} ({q('id')} integer PRIMARY KEY, {cols}){options}"]
    values = [_values(r, target, bad) for r in rows]
    for key in range(1, max(len(v) for v in values) + 1):
        cells = ["NULL" if len(v) < key or v[key - 1] is None else v[key - 1] for v in values]
        names = ", ".join(q(r.column) for r in rows)
        stmts.append(f"INSERT INTO {q(name)} ({q('id')}, {names}) VALUES ({key}, "
                     f"{', '.join(cells)})")  # fmt: skip
    return stmts


def _source_statements(source: str) -> list[str]:
    stmts = list(setup_for(source))
    for target in LIVE:
        for name, rows in outcome_tables(source, target).items():
            stmts += _create(source, name, rows, target)
        for name, row in bad_tables(source, target).items():
            stmts += _create(source, name, [row], target, bad=True)
    return stmts


def _database(request, engine: str, label: str) -> Iterator[DbUrl]:
    if engine == LITE:
        path = request.getfixturevalue("tmp_path_factory").mktemp(label) / "db.sqlite"
        sqlite3.connect(path).close()
        yield DbUrl.parse(f"sqlite:///{path}")
        return
    server = request.getfixturevalue("pg_server" if engine == PG else "mysql_server")
    yield from _fresh(server, f"t21m_{label}")


@pytest.fixture(scope="module")
def sources(request) -> Iterator[Callable[[str], DbUrl]]:
    """Each live source engine's database, every outcome table created and filled once; made
    when a test first asks for that engine."""
    made: dict[str, DbUrl] = {}
    gens = []

    def get(engine: str) -> DbUrl:
        if engine not in made:
            gen = _database(request, engine, f"src_{SHORT[engine]}")
            made[engine] = next(gen)
            gens.append(gen)
            UNSUPPORTED.update(_server_lacks(made[engine]))
            independent.execute(made[engine], *_source_statements(engine), **MY_MODE)
        return made[engine]

    yield get
    for gen in gens:
        next(gen, None)


@pytest.fixture
def target(request) -> Iterator[DbUrl]:
    yield from _database(request, request.param, f"dst_{SHORT[request.param]}")


def _copy(source: DbUrl, target: DbUrl, tables: list[str], **options):
    """The copy's result, or None and the error text a user would read."""
    try:
        result = copy_database(source, target, CopyOptions(tables=tables, chunk_rows=2,
                                                           workers=2, **options))  # fmt: skip
    except SluiceError as exc:
        return None, str(exc)
    return result, "; ".join(result.failures)


def _reads(url: DbUrl, table: str, rows: list[Row], family=None) -> dict[str, list]:
    """column -> its values in key order, each read as the server's own text and normalised."""
    q = lambda n: quote(url.engine, n)  # noqa: E731
    exprs = [READS[family or r.read][url.engine].format(v=q(r.column)) for r in rows]
    got = independent.rows(
        url, f"SELECT {', '.join(exprs)} FROM {q(table)} ORDER BY {q('id')}", **MY_MODE
    )
    return {r.column: [_norm(family or r.read, row[i]) for row in got]
            for i, r in enumerate(rows)}  # fmt: skip


def _compare(source: DbUrl, target: DbUrl, table: str, rows: list[Row], family=None) -> list[str]:
    want, got = _reads(source, table, rows, family), _reads(target, table, rows, family)
    return [f"{table}.{r.column} ({r.decl}): source {want[r.column]} target {got[r.column]}"
            for r in rows if want[r.column] != got[r.column]]  # fmt: skip


PAIRS = [(s, t) for s in LIVE for t in LIVE]


def _pair_id(pair) -> str:
    return f"{SHORT[pair[0]]}-{SHORT[pair[1]]}"


@pytest.mark.parametrize(("source_engine", "target"), [pytest.param(s, t, id=_pair_id((s, t)))
                                                        for s, t in PAIRS],
                         indirect=["target"])  # fmt: skip
def test_matrix_pair(sources, source_engine, target):
    """Every type of one source engine to one target engine, as the matrix says."""
    source = sources(source_engine)
    engine = target.engine
    tables = outcome_tables(source_engine, engine)
    problems: list[str] = []
    # the plan: each column's declaration and fidelity, before anything moves
    planned = {n: rows for n, rows in tables.items() if n.startswith(("ok_", "lossy_"))}
    plan = build_plan(source, target, tables=list(planned))
    for name, rows in planned.items():
        maps = {m.name: m for m in plan.table(name).columns}
        for r in rows:
            want = r.to[engine]
            m = maps[r.column]
            if (m.target_type, m.fidelity) != (want.decl, want.outcome):
                problems.append(f"plan {name}.{r.column} ({r.decl}): {m.target_type} "
                                f"[{m.fidelity}], matrix {want.decl} [{want.outcome}]")  # fmt: skip
    # exact and widening: copied, then both databases read independently
    ok = [n for n in tables if n.startswith("ok_")]
    result, error = _copy(source, target, ok)
    assert result is not None and result.ok, f"copy failed: {error}"
    for name in ok:
        problems += _compare(source, target, name, tables[name])
    # lossy: refused naming each column, then copied with --allow-lossy
    name = f"lossy_{SHORT[engine]}"
    if name in tables:
        result, error = _copy(source, target, [name])
        assert result is None and "--allow-lossy" in error and "\n" not in error, error
        problems += [f"{name}.{r.column} not named lossy: {error}" for r in tables[name]
                     if f"{name}.{r.column}:" not in error]  # fmt: skip
        result, error = _copy(source, target, [name], allow_lossy=True)
        assert result is not None and result.ok, f"{name} with --allow-lossy: {error}"
    # refused: the plan names every column, its type and what carries it
    for name in (f"refused_{SHORT[engine]}", f"carried_{SHORT[engine]}"):
        if name in tables:
            problems += _refusal_problems(source, target, name, tables[name], engine)
    name = f"carried_{SHORT[engine]}"
    if name in tables:
        result, error = _copy(source, target, [name], carry_as_text=True)
        assert result is not None and result.ok, f"{name} with {CARRY}: {error}"
        problems += _compare(source, target, name, tables[name], "pgtext")
    # values the target cannot hold: each table refused naming table, column and a key
    for name, row in bad_tables(source_engine, engine).items():
        options = {"allow_lossy": True} if row.to[engine].outcome == "lossy" else {}
        result, error = _copy(source, target, [name], **options)
        if result is not None and result.ok:
            problems.append(f"{name}.{row.column} ({row.decl}): {row.to[engine].bad} copied")
        elif not all(f in error for f in (f"'{name}'", f"'{row.column}'", "key")):
            problems.append(f"{name}.{row.column}: refusal does not name table, column, key: "
                            f"{error}")  # fmt: skip
        elif re.search(r"\(\d{4}, '|Traceback|descriptor '|\n", error):
            problems.append(f"{name}: driver text in {error}")
    assert not problems, "\n".join(problems)


def _refusal_problems(source, target, name, rows, engine) -> list[str]:
    try:
        build_plan(source, target, tables=[name])
    except SluiceError as exc:
        said = str(exc)
    else:
        return [f"{name}: planned, but the matrix refuses {[r.column for r in rows]}"]
    problems = [f"{name}: the refusal is not one line: {said!r}"] if "\n" in said else []
    parts = said.split("; ")
    for r in rows:
        part = next((p for p in parts if f"column '{r.column}'" in p), None)
        kind = r.decl.lower().replace("public.", "").split("(")[0].strip()
        if part is None or f"'{name}'" not in said or kind not in part.lower():
            problems.append(f"{name}.{r.column} ({r.decl}) not named in: {said}")
        elif r.to[engine].option and r.to[engine].option not in part:
            problems.append(f"{name}.{r.column}: {r.to[engine].option} not offered: {part}")
    return problems


# --- SQL Server at compile level --------------------------------------------------------------


def _compiles(dialect, table: Table) -> None:
    for stmt in dialect.create_table_sql(table):
        parsed = sqlglot.parse_one(stmt, read="tsql")
        assert isinstance(parsed, exp.Create), stmt


@pytest.mark.parametrize("source_engine", LIVE, ids=[SHORT[e] for e in LIVE])
def test_to_sql_server_compiles(sources, source_engine):
    """Each live source row's plan for a SQL Server target (reflected from the real source,
    planned without a server) and the CREATE TABLE the SQL Server dialect writes for it."""
    from sluice.copy.reflect import reflect_tables

    source = sources(source_engine)
    rows = {r.column: r for r in _rows(source_engine)}
    tables = reflect_tables(
        source,
        [
            n
            for n in outcome_tables(source_engine, PG)
            if n.startswith(("ok_", "lossy_", "refused_", "carried_"))
        ],
    )
    problems = []
    for table in tables:
        for column in table.columns[1:]:
            want = rows[column.name].to[MS]
            single = Table(table.name, (table.columns[0], column), ("id",))
            problems += _planned(single, source_engine, MS, want, rows[column.name])
    assert not problems, "\n".join(problems)


def _planned(table: Table, source: str, target: str, want, row: Row) -> list[str]:
    """The plan of a one-column table against the matrix; its DDL compiled for SQL Server."""
    try:
        plan = plan_tables([table], {table.name: (None, None, 0)}, source, target, "s", "t",
                           selection=Selection(allow_lossy=None))  # fmt: skip
    except SluiceError as exc:
        if want.outcome != "refused":
            return [f"{row.source} {row.decl} -> {target}: refused ({exc}), matrix {want}"]
        if want.option and want.option not in str(exc):
            return [f"{row.source} {row.decl} -> {target}: {want.option} not offered: {exc}"]
        return []
    (m,) = [m for m in plan.tables[0].columns if m.name != "id"]
    if (m.target_type, m.fidelity) != (want.decl, want.outcome):
        return [f"{row.source} {row.decl} -> {target}: {m.target_type} [{m.fidelity}], "
                f"matrix {want.decl} [{want.outcome}]"]  # fmt: skip
    if target == MS:
        _compiles(get_dialect(MS), plan.tables[0].table)
    return []


def _ms_table(row: Row) -> Table:
    name, neutral = row.mssql
    t = with_native(MS, neutral, None if name in ("rowversion", "sql_variant") else
                    (row.decl, name))  # fmt: skip
    if t is None:  # sql_variant: nothing knows it; reflection refuses it by name
        t = SqlType(Kind.NATIVE, native=row.decl, engine=MS) if neutral is None else neutral
    key = Column("id", SqlType(Kind.INTEGER), False)
    return Table("ms_types", (key, Column("v", t)), ("id",), "dbo")


@pytest.mark.parametrize("row", [r for r in MATRIX if r.source == MS], ids=lambda r: r.decl)
def test_from_sql_server_compiles(row: Row):
    """A SQL Server column (as reflection gives it) planned to every engine, as the matrix
    says; to SQL Server, the CREATE TABLE compiles."""
    table = _ms_table(row)
    problems = []
    neutral = row.mssql[1]
    if neutral is not None:  # the declaration's text parses to the kind reflection gives
        assert parse_type(row.decl.split(" COLLATE ")[0]).kind is neutral.kind, row.decl
    for target in ENGINES:
        if row.decl == "sql_variant" and target == MS:
            continue  # refused at reflection (pymssql drops its base type): no neutral type
        problems += _planned(table, MS, target, row.to[target], row)
    assert not problems, "\n".join(problems)


def test_every_row_names_every_target():
    for r in MATRIX:
        assert set(r.to) == set(ENGINES), r.decl
        assert r.source == MS or r.values, r.decl
        for engine, to in r.to.items():
            assert to.outcome in ("exact", "widening", "lossy", "refused"), (r.decl, engine)
            assert to.outcome == "refused" or to.decl, (r.decl, engine)
            assert set(to.bad) <= set(r.values), (r.decl, engine)
    for source in LIVE:
        columns = [r.column for r in rows_from(source)]
        assert len(columns) == len(set(columns)), source
