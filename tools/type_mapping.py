"""Render docs/type-mapping.md from the type matrix the tests walk and from the dialects, so
the document cannot drift.

    python tools/type_mapping.py > docs/type-mapping.md     # regenerate
    python tools/type_mapping.py --check                     # exit 1 when the file is stale

The page: per source engine, every type of its documented list (`tests/conformance/
type_matrix/`, proven through the real servers by tests/conformance/test_type_matrix.py)
with its edge values and, per target engine, the declaration and exact / widening / lossy /
refused; the MariaDB <-> PostgreSQL option cases (`mariadb_pg_cases.EDGES`); then every
neutral kind as each engine declares it, and the SQL Server -> PostgreSQL promises.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the matrix lives with the tests that walk it
    sys.path.insert(0, str(ROOT))

from tests.conformance import type_matrix as tm  # noqa: E402

from sluice.core.types import Kind, SqlType  # noqa: E402
from sluice.dialects import get_dialect  # noqa: E402

DOC = ROOT / "docs" / "type-mapping.md"
ENGINES = ("postgresql", "mssql", "mysql", "sqlite")
TITLES = {"postgresql": "PostgreSQL", "mssql": "SQL Server", "mysql": "MySQL", "sqlite": "SQLite"}

# Every kind at the lengths/precisions that change how some engine declares it.
NEUTRAL: list[SqlType] = [
    SqlType(Kind.BOOLEAN),
    SqlType(Kind.TINYINT),
    SqlType(Kind.SMALLINT),
    SqlType(Kind.INTEGER),
    SqlType(Kind.BIGINT),
    SqlType(Kind.DECIMAL, precision=18, scale=2),
    SqlType(Kind.DECIMAL, precision=38, scale=10),
    SqlType(Kind.DECIMAL),
    SqlType(Kind.MONEY),
    SqlType(Kind.REAL),
    SqlType(Kind.DOUBLE),
    SqlType(Kind.STRING, length=40),
    SqlType(Kind.STRING, length=40, unicode=False),
    SqlType(Kind.STRING, length=10, fixed=True),
    SqlType(Kind.STRING, length=5000),
    SqlType(Kind.STRING),
    SqlType(Kind.BINARY, length=16),
    SqlType(Kind.BINARY, length=8, fixed=True),
    SqlType(Kind.BINARY),
    SqlType(Kind.DATE),
    SqlType(Kind.TIME),
    SqlType(Kind.TIME, precision=7),
    SqlType(Kind.TIME_TZ),
    SqlType(Kind.DURATION, precision=6),
    SqlType(Kind.DURATION, precision=0),
    SqlType(Kind.DATETIME),
    SqlType(Kind.DATETIME, precision=0),
    SqlType(Kind.DATETIME, precision=3),
    SqlType(Kind.DATETIME, precision=6),
    SqlType(Kind.DATETIME, precision=7),
    SqlType(Kind.DATETIME_TZ),
    SqlType(Kind.DATETIME_TZ, precision=7),
    SqlType(Kind.UUID),
    SqlType(Kind.JSON),
    SqlType(Kind.XML),
    SqlType(Kind.ROWVERSION),
    SqlType(Kind.BIT, length=5),
    SqlType(Kind.BIT, length=100),
    SqlType(Kind.TEXT_FORM),
    SqlType(Kind.GEOMETRY),
]

# SQL Server declarations shown, with what the project promises on PostgreSQL (None: shown,
# no promise made).
MSSQL_TO_PG: list[tuple[str, str | None]] = [
    ("nvarchar(max)", "TEXT"),
    ("nvarchar(40)", "VARCHAR(40)"),
    ("nvarchar(4000)", "VARCHAR(4000)"),
    ("varchar(max)", None),
    ("varchar(255)", None),
    ("nchar(10)", None),
    ("ntext", None),
    ("text", None),
    ("datetime", "TIMESTAMP"),
    ("smalldatetime", None),
    ("datetime2", None),
    ("datetime2(3)", None),
    ("datetimeoffset", None),
    ("datetimeoffset(3)", None),
    ("date", None),
    ("time", None),
    ("time(3)", None),
    ("bit", "BOOLEAN"),
    ("tinyint", None),
    ("smallint", None),
    ("int", "INTEGER"),
    ("bigint", "BIGINT"),
    ("decimal(18,2)", None),
    ("decimal(38,10)", None),
    ("numeric(19,4)", None),
    ("money", None),
    ("smallmoney", None),
    ("float", None),
    ("float(24)", None),
    ("real", None),
    ("uniqueidentifier", "UUID"),
    ("varbinary(max)", "BYTEA"),
    ("varbinary(16)", "BYTEA"),
    ("binary(8)", None),
    ("image", "BYTEA"),
    ("rowversion", None),
    ("timestamp", None),
    ("xml", None),
]
# PostgreSQL declarations as reflection records them (format_type under search_path pg_catalog,
# the type's name, and the neutral type SQLAlchemy's generic classes give, if any): carried
# verbatim to PostgreSQL, mapped or refused elsewhere (ADR 0013). The integration test
# tests/integration/test_pg_native_types.py copies every one of these with edge values.
PG_OWN: list[tuple[str, str, SqlType | None]] = [
    ("integer[]", "_int4", None),
    ("text[]", "_text", None),
    ("public.mood[]", "_mood", None),
    ("inet", "inet", None),
    ("cidr", "cidr", None),
    ("macaddr8", "macaddr8", None),
    ("money", "money", None),
    ("interval day to second(3)", "interval", None),
    ("bit(5)", "bit", SqlType(Kind.BIT, length=5)),
    ("bit varying", "varbit", None),
    ("oid", "oid", None),
    ("int4range", "int4range", None),
    ("tstzmultirange", "tstzmultirange", None),
    ("tsvector", "tsvector", None),
    ("tsquery", "tsquery", None),
    ("point", "point", None),
    ("polygon", "polygon", None),
    ("xml", "xml", None),
    ("time with time zone", "timetz", SqlType(Kind.TIME_TZ, precision=6)),
    ("timestamp(3) with time zone", "timestamptz", SqlType(Kind.DATETIME_TZ, precision=3)),
    ("json", "json", SqlType(Kind.JSON)),
    ("jsonb", "jsonb", SqlType(Kind.JSON)),
    ("public.mood", "mood", SqlType(Kind.STRING, length=5)),
    ("public.posint", "posint", None),
    ("public.pair", "pair", None),
    ("public.citext", "citext", SqlType(Kind.STRING)),
    ("public.hstore", "hstore", None),
    ("public.ltree", "ltree", None),
    ("public.isbn13", "isbn13", None),
]
IDENTITY_PROMISE = "GENERATED ALWAYS AS IDENTITY"  # for a SQL Server IDENTITY(1,1) column


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n")  # one table row per line


def _render(dialect, t: SqlType) -> tuple[str, str]:
    """(declaration, fidelity) or the error the dialect raises for this type."""
    try:
        decl = f"`{dialect.render_type(t)}`"
    except Exception:  # a type the engine cannot declare is part of the table
        return "refused (no such type: the plan names the column)", "-"
    fidelity, note = dialect.fidelity(t)
    return decl, f"{fidelity}: {note}" if note else fidelity


def neutral_table() -> list[str]:
    dialects = [get_dialect(e) for e in ENGINES]
    head = ["Neutral type"] + [f"{TITLES[e]} | fidelity" for e in ENGINES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * (1 + 2 * len(ENGINES))]
    for t in NEUTRAL:
        cells = [f"`{t.describe()}`"]
        for d in dialects:
            cells += _render(d, t)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def mssql_rows() -> list[tuple[str, ...]]:
    """(SQL Server, neutral, PostgreSQL, fidelity, promised, kept) per declaration shown."""
    from sluice.dialects.mssql import parse_type

    ms, pg = get_dialect("mssql"), get_dialect("postgresql")
    rows = []
    for text, promise in MSSQL_TO_PG:
        try:
            t = parse_type(text)
        except Exception as exc:
            neutral, decl, fidelity = f"unparsed ({type(exc).__name__})", "-", "-"
        else:
            neutral = f"`{t.describe()}`"
            decl, fidelity = _render(pg, t)
        kept = "-" if promise is None else ("yes" if decl == f"`{promise}`" else "**no**")
        rows.append(
            (f"`{text}`", neutral, decl, fidelity, f"`{promise}`" if promise else "-", kept)
        )
    ident = pg.identity_clause()
    kept = "yes" if ident == IDENTITY_PROMISE else "**no**"
    rows.append((f"`{ms.identity_clause()}` (column property)", "identity", f"`{ident}`", "-",
                 f"`{IDENTITY_PROMISE}`", kept))  # fmt: skip
    return rows


def mssql_table() -> list[str]:
    lines = [
        "| SQL Server | neutral | PostgreSQL | fidelity | promised | kept |",
        "|---|---|---|---|---|---|",
    ]
    return lines + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in mssql_rows()]


def pg_own_rows() -> list[tuple[str, ...]]:
    """(PostgreSQL declaration, neutral, then per engine what a target declares) per PG_OWN."""
    return own_rows("postgresql")


# (declaration, MariaDB's DATA_TYPE, JSON?, the neutral type reflection gives) per MariaDB type
MARIADB_OWN = [
    ("tinyint(4)", "tinyint", False, SqlType(Kind.SMALLINT)),
    ("tinyint(3) unsigned", "tinyint", False, SqlType(Kind.TINYINT)),
    ("bigint(20) unsigned", "bigint", False, SqlType(Kind.DECIMAL, precision=20, scale=0)),
    ("decimal(65,30)", "decimal", False, SqlType(Kind.DECIMAL, precision=65, scale=30)),
    ("float", "float", False, SqlType(Kind.REAL)),
    ("bit(64)", "bit", False, SqlType(Kind.BIT, length=64)),
    ("set('a','b') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "set", False,
     SqlType(Kind.STRING, length=3)),
    ("enum('x','y z') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "enum", False,
     SqlType(Kind.STRING, length=3)),
    ("JSON", "longtext", True, None),
    ("year(4)", "year", False, SqlType(Kind.SMALLINT)),
    ("time(6)", "time", False, SqlType(Kind.DURATION, precision=6)),
    ("datetime(6)", "datetime", False, SqlType(Kind.DATETIME, precision=6)),
    ("timestamp(6)", "timestamp", False, SqlType(Kind.DATETIME, precision=6)),
    ("char(5) CHARACTER SET latin1 COLLATE latin1_german1_ci", "char", False,
     SqlType(Kind.STRING, length=5, fixed=True)),
    ("tinytext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "tinytext", False,
     SqlType(Kind.STRING, length=255)),
    ("mediumblob", "mediumblob", False, SqlType(Kind.BINARY, length=16777215)),
    ("binary(4)", "binary", False, SqlType(Kind.BINARY, length=4, fixed=True)),
    ("geometry", "geometry", False, None),
    ("point REF_SYSTEM_ID=4326", "point", False, None),
    ("multipolygon", "multipolygon", False, None),
    ("geometrycollection", "geometrycollection", False, None),
    ("inet4", "inet4", False, None),
    ("inet6", "inet6", False, None),
    ("uuid", "uuid", False, None),
]  # fmt: skip

# (declaration, sys.types name, the neutral type reflection gives) per SQL Server type
MSSQL_OWN = [
    ("datetimeoffset(7)", "datetimeoffset", SqlType(Kind.DATETIME_TZ, precision=7)),
    ("datetimeoffset(6)", "datetimeoffset", SqlType(Kind.DATETIME_TZ, precision=6)),
    ("datetime2(7)", "datetime2", SqlType(Kind.DATETIME, precision=7)),
    ("time(7)", "time", SqlType(Kind.TIME, precision=7)),
    ("hierarchyid", "hierarchyid", None),
    ("geography", "geography", None),
    ("geometry", "geometry", None),
    ("xml", "xml", SqlType(Kind.XML)),
    ("money", "money", SqlType(Kind.MONEY)),
    ("smallmoney", "smallmoney", SqlType(Kind.MONEY, precision=10, scale=4)),
    ("uniqueidentifier", "uniqueidentifier", SqlType(Kind.UUID)),
    ("varbinary(max)", "varbinary", SqlType(Kind.BINARY)),
    ("nvarchar(max) COLLATE Latin1_General_CS_AS", "nvarchar", SqlType(Kind.STRING)),
    ("image", "image", SqlType(Kind.BINARY)),
    ("text COLLATE SQL_Latin1_General_CP1_CI_AS", "text", SqlType(Kind.STRING, unicode=False)),
    ("ntext COLLATE SQL_Latin1_General_CP1_CI_AS", "ntext", SqlType(Kind.STRING)),
]  # fmt: skip


def own_rows(engine: str) -> list[tuple[str, ...]]:
    """(declaration, neutral, then per engine what a target declares) for an engine's own
    types (`PG_OWN`, `MARIADB_OWN`, `MSSQL_OWN`), through that engine's `with_native`."""
    if engine == "postgresql":
        from sluice.dialects.postgresql_native import with_native

        entries = [(d, (d, typname), t) for d, typname, t in PG_OWN]
    elif engine == "mysql":
        from sluice.dialects.mysql_native import with_native

        entries = [(d, (d, d, name, js), t) for d, name, js, t in MARIADB_OWN]
    else:
        from sluice.dialects.mssql_native import with_native

        entries = [(d, (d, name), t) for d, name, t in MSSQL_OWN]
    rows = []
    for decl, info, neutral in entries:
        t = with_native(engine, neutral, info)
        cells = [f"`{decl}`", t.kind.value]
        for target in ENGINES:
            d = get_dialect(target)
            if not d.carries(t):
                cells.append("refused")
                continue
            declared, fidelity = _render(d, t)
            cells.append(declared if fidelity == "exact" else f"{declared} ({fidelity})")
        rows.append(tuple(cells))
    return rows


def broken_promises() -> list[str]:
    """The promised SQL Server -> PostgreSQL mappings the code does not render."""
    return [f"{r[0]} -> {r[2]}, promised {r[4]}" for r in mssql_rows() if r[5] == "**no**"]


INTRO = """\
# Type mapping

<!-- Generated by tools/type_mapping.py from tests/conformance/type_matrix/ and the dialects;
do not edit by hand. Regenerate: python tools/type_mapping.py > docs/type-mapping.md -->

Every type of each engine's own documented type list (PostgreSQL's built-in data types,
MariaDB's data types, SQLite's storage classes and affinities, SQL Server's data types), to
every target engine: the declaration the target column gets and what happens to the values.

- **exact**: every value of the source type's whole domain arrives unchanged;
  **widening**: the same, in a wider target type.
- **lossy**: some values would change (rounded, an offset dropped): the copy refuses the
  column unless `--allow-lossy`, and the plan and the report name it.
- **refused**: the plan stops, naming table, column and type, with the option that would
  carry the column, if one does (`--carry-as-text`: the source server's own text of each
  value, exact and reversible). `--skip-refused` copies the other tables.
- *refused by value*: edge values the target cannot hold (a date before its range, NaN);
  the table stops naming table, column and row key.

The edge values are the source engine's SQL literals (NULL included). This table is the data
`tests/conformance/test_type_matrix.py` walks: for every live pair (PostgreSQL, MariaDB and
SQLite sources and targets, on the real servers) it copies them and compares both databases
by an independent read (each server's own text of every value: casts, HEX, ST_AsBinary;
SQLite's stored values), checks the plan's declaration and refusals, and every value refused
one by one. SQL Server is compile-level only (no SQL Server runs in CI): the plan's
declarations to and from it, and the CREATE TABLE its dialect writes, parsed by sqlglot; its
column's values are not run, so no value refusal is listed there.
"""

MSSQL_INTRO = """
## Appendix: SQL Server -> PostgreSQL promises

SQL Server declarations as `sluice.dialects.mssql.parse_type` reads them, rendered by the
PostgreSQL dialect. *promised* is the mapping the project documents; *kept* says whether the code
renders it.
"""


TITLE = {"postgresql": "PostgreSQL", "mysql": "MariaDB"}

EDGES_INTRO = """
## MariaDB <-> PostgreSQL: option cases

The matrix's companion for what one column per type cannot show (options, sql_mode, values
refused by key, the values a lossy copy changes): the cases `tests/conformance/test_mariadb_pg.py`
walks (`tests/conformance/mariadb_pg_cases.py`):
each source table is copied alone and both servers are read back as their own text
(server-side casts); *exact* means every value listed arrived as it was and `sluice verify`
passed, *refused* that the copy stopped with a message naming table, column and type (and the
row key for a value). Options a case runs with are shown after its outcome.

A MariaDB GEOMETRY (POINT, POLYGON, ...) arrives on PostgreSQL as EWKB: WKB, with the value's
SRID flagged into its type word when it is not 0 (PostGIS's own binary form, what
`geometry::bytea` gives), in a PostGIS `geometry` column where the extension is installed in
the target database, else in `bytea` (`ST_GeomFromEWKB` reads it). A MariaDB ENUM arrives as a
`varchar` as wide as its longest member (every member kept exactly), or with `--enums type` as
a PostgreSQL enum type `<table>_<column>_enum` made in its table's target schema ('' first,
MariaDB's error value, then the members in order); a SET as a `varchar` wide enough for all its
members joined by commas.
"""


def edge_rows() -> list[str]:
    from tests.conformance.mariadb_pg_cases import EDGES

    lines = ["| from | declaration | to | target type | outcome | edge values |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for e in EDGES:
        outcome = "refused" if e.refused else "exact"
        if e.options.get("allow_lossy"):
            outcome = "lossy (verify: MISMATCH, the column named lossy)"
        if e.options:
            outcome += " with " + ", ".join(f"`{k}={v}`" for k, v in e.options.items())
        values = ", ".join("NULL" if v is None else f"`{v}`" for v in e.values)
        target = f"`{e.target_type}`" if e.target_type else "-"
        cells = [TITLE[e.source], f"`{e.decl}`", TITLE[e.target], target, outcome, values]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


SOURCE_NOTES = {
    tm.PG: """
PostgreSQL -> PostgreSQL keeps each column's exact declaration (ADR 0013): enums, domains and
composite types are created on the target, extensions (hstore, ltree, citext, isn: tested in
tests/integration/test_pg_native_types.py) created or refused by name. A type other engines
lack is refused there naming `--carry-as-text`, which carries PostgreSQL's own output text
(arrays as `{1,NULL,3}` with their bounds, not as JSON). A `serial` (an integer whose default
is `nextval()` of a sequence it owns) stays a serial on PostgreSQL, with its source's sequence
name, and is an identity elsewhere; `GENERATED BY DEFAULT` stays BY DEFAULT (explicit ids
insertable) and `GENERATED ALWAYS` stays ALWAYS; an integer with a `nextval()` default of a
sequence it does not own is a column with a default, not an identity (ADR 0020).
""",
    tm.MY: """
MariaDB -> MariaDB keeps each declaration with its character set and collation (ADR 0013);
sessions run in UTC. TINYINT(1) is an integer, TIME a signed duration (a PostgreSQL
`interval`), JSON keeps its text byte for byte (PostgreSQL `json`, not `jsonb`), geometry
travels as EWKB (`bytea`, or PostGIS `geometry` where installed). Zero dates, SERIAL and the
FLOAT/ENUM edge cases are in the option cases below and in
tests/integration/test_mariadb_native_types.py.
""",
    tm.LITE: """
A SQLite column's declared type only picks an affinity: every INTEGER-affinity column holds
8-byte integers (so it arrives as BIGINT whatever its name), every REAL one 8-byte doubles,
and any column can hold a value of another storage class ('abc' in an INTEGER column, 5 in a
BOOLEAN one). Such a value is refused by key by a typed target, and kept as it is by SQLite.
""",
    tm.MS: """
Compile-level only: the neutral type SQL Server's reflection gives each declaration (from
sys.columns), planned to each engine. Its own types stay verbatim on SQL Server; hierarchyid,
geography and geometry are written through CONVERT from varbinary; 7 fractional digits are
lossy everywhere (Python times carry microseconds); sql_variant is refused at reflection.
""",
}
_LONG = {tm.ALL_BYTES: "every byte 00..ff", tm.MY_ALL_BYTES: "every byte 00..ff"}


def _value(v: str | None) -> str:
    if v is None:
        return "NULL"
    text = _LONG.get(v) or (v if len(v) <= 48 else v[:44] + " ...")
    return f"`{text}`"


def _outcome(to: tm.To) -> str:
    if to.outcome == "refused":
        return f"refused ({to.option})" if to.option else "refused"
    text = f"`{to.decl}` {to.outcome}"
    if to.outcome == "lossy":
        text += f" ({to.option})"
    if to.bad:
        text += "; refused by value: " + ", ".join(_value(v) for v in to.bad)
    return text


def matrix_section(source: str) -> list[str]:
    """One table: every type of `source`'s list, its edge values and each target's outcome."""
    rows = tm.rows_from(source)
    title = tm.TITLE[source] + (" (compile-tested)" if source not in tm.LIVE else "")
    head = [f"{tm.TITLE[source]} type", "edge values"] + [tm.TITLE[e] for e in tm.ENGINES]
    if source == tm.MS:
        head[1] = "sys.types"
    lines = [f"\n## From {title}", SOURCE_NOTES[source], "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]  # fmt: skip
    for r in rows:
        values = r.mssql[0] if r.mssql else ", ".join(_value(v) for v in r.values)
        cells = [f"`{r.decl}`", values] + [_outcome(r.to[e]) for e in tm.ENGINES]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


APPENDIX = """
## Appendix: each neutral type as each engine declares it

Every engine parses its own types into sluice's neutral vocabulary (`sluice.core.types`) and
renders neutral types in its own words; the fidelity is what a plan reports for a column of
that type arriving on the engine.
"""


def render() -> str:
    sections = [line for source in tm.ENGINES for line in matrix_section(source)]
    parts = [INTRO, *sections, EDGES_INTRO, *edge_rows(), APPENDIX, *neutral_table(),
             MSSQL_INTRO, *mssql_table()]  # fmt: skip
    return "\n".join([*parts, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help=f"exit 1 when {DOC} is stale")
    args = parser.parse_args(argv)
    text = render()
    if not args.check:
        sys.stdout.write(text)
        return 0
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if current == text:
        return 0
    print(
        f"{DOC} differs from what the dialects render: "
        "run `python tools/type_mapping.py > docs/type-mapping.md`",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
