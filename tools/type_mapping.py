"""Render docs/type-mapping.md from the dialects themselves, so the document cannot drift.

    python tools/type_mapping.py > docs/type-mapping.md     # regenerate
    python tools/type_mapping.py --check                     # exit 1 when the file is stale

Two tables: every neutral kind (at representative lengths and precisions) as each engine
declares it, with the fidelity flag the plan uses; and SQL Server declarations as parsed by
the SQL Server dialect and rendered by the PostgreSQL one, next to what the project promises.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sluice.core.types import Kind, SqlType
from sluice.dialects import get_dialect

DOC = Path(__file__).resolve().parent.parent / "docs" / "type-mapping.md"
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
    return text.replace("|", "\\|")


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


def pg_own_table() -> list[str]:
    head = ["PostgreSQL column", "kind"] + [TITLES[e] for e in ENGINES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in pg_own_rows()]


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


def own_table(engine: str) -> list[str]:
    head = [f"{TITLES[engine]} column", "kind"] + [TITLES[e] for e in ENGINES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in own_rows(engine)]


def broken_promises() -> list[str]:
    """The promised SQL Server -> PostgreSQL mappings the code does not render."""
    return [f"{r[0]} -> {r[2]}, promised {r[4]}" for r in mssql_rows() if r[5] == "**no**"]


INTRO = """\
# Type mapping

<!-- Generated by tools/type_mapping.py from the dialects; do not edit by hand. -->
<!-- Regenerate: python tools/type_mapping.py > docs/type-mapping.md -->

Every engine parses its own types into sluice's neutral vocabulary (`sluice.core.types`) and renders
neutral types in its own words. The fidelity flag is what a plan reports for a column of that type
arriving on the engine: `exact`, `widening` (every value kept, in a wider type) or `lossy`
(refused unless `--allow-lossy`).

## Neutral type -> each engine
"""

MSSQL_INTRO = """
## SQL Server -> PostgreSQL

SQL Server declarations as `sluice.dialects.mssql.parse_type` reads them, rendered by the
PostgreSQL dialect. *promised* is the mapping the project documents; *kept* says whether the code
renders it.
"""


PG_OWN_INTRO = """
## PostgreSQL's own types (ADR 0013)

A PostgreSQL source records each column's exact declaration. A PostgreSQL target declares the
column exactly so (enums, domains and composite types are created first, in the source's schema;
extensions with `CREATE EXTENSION IF NOT EXISTS`, or refused by name when the target lacks
them), and the rows move as raw COPY: binary where every type is built in, text (with the
settings that shape it pinned) otherwise. Kind `native` has no neutral equivalent: every other
engine refuses it, naming table, column and type. A type with a neutral kind goes to other
engines through it (a timetz is `time_tz`: exact here, lossy to an engine whose time keeps
no offset; an interval is `native`, while a MariaDB TIME arrives here as an `interval`).

To another engine, `--carry-as-text` carries a column the target refuses (kind `native`, a
`bit(100)`) or holds only lossily (a timetz, an unconstrained numeric) as PostgreSQL's own
output text of each value (kind `text_form`: what psql prints, with the session settings that
shape it pinned), in the target's unbounded text type (MariaDB `LONGTEXT`). It is exact and
reversible: PostgreSQL's input function reads the text back to the same value, and `sluice
verify --carry-as-text` compares the target's text with the source server's. Arrays go as
their text (`{1,NULL,3}`, `[0:1]={5,6}`), not as JSON: a JSON array would lose the lower bound
and the element type. Without the option such a column is refused, naming the option;
`--skip-refused` copies the other tables and names each one left out.
"""


MARIADB_OWN_INTRO = """
## MariaDB's own types (ADR 0013)

A MariaDB source records each column's declaration from information_schema: COLUMN_TYPE, its
character set and collation, a geometry column's SRID (`REF_SYSTEM_ID`), and MariaDB's JSON
(LONGTEXT utf8mb4_bin with a CHECK json_valid) as `JSON`. A MariaDB target declares the column
exactly so; geometry travels as MariaDB's own bytes (SRID + WKB, each value's SRID kept), the
rest as PyMySQL reads it (FLOAT as the DOUBLE it holds); sessions run in UTC, so TIMESTAMPs are
exact instants. Zero dates are stored where the target's sql_mode allows them and refused as
a value where NO_ZERO_DATE forbids them; an ENUM's error value '' is refused (sluice's sessions
are strict). The edge values are in `tests/integration/mariadb_native_data.py`: each end of
every range, NULL, empty, zero dates, TIME +-838:59:59.999999, 24:00:00, BIT(64) all ones,
64-member SETs, SRIDs 0/4326/3857/2154, duplicate JSON keys, every byte value; compared by
`sluice verify` (native and canonical) and by an independent read (HEX or CAST AS CHAR of
every column, COLUMN_TYPE, collation, SRID and CHECK on both servers).
"""

MSSQL_OWN_INTRO = """
## SQL Server's own types (ADR 0013, compile-tested)

A SQL Server source records each column's declaration from sys.columns (collation included); a
SQL Server target declares it exactly so. hierarchyid, geography and geometry are `native`:
their bytes are written by INSERT ... CONVERT(type, varbinary), never bulk copy. 7 fractional
digits stay lossy (Python holds microseconds). rowversion stays `binary(8)` (no explicit value
can be written into a rowversion) and sql_variant is refused (pymssql drops its base type).
Compiled with sqlglot in `tests/unit/test_mssql_native.py`; run live by
`tests/integration/test_mssql_live.py` where `SLUICE_TEST_MSSQL_URL` is set.
"""


EDGES_FILE = DOC.parent.parent / "tests" / "conformance" / "mariadb_pg_cases.py"
TITLE = {"postgresql": "PostgreSQL", "mysql": "MariaDB"}

EDGES_INTRO = """
## MariaDB <-> PostgreSQL, edge values tested

The cases `tests/conformance/test_mariadb_pg.py` walks (`tests/conformance/mariadb_pg_cases.py`):
each source table is copied alone and both servers are read back as their own text
(server-side casts); *exact* means every value listed arrived as it was and `sluice verify`
passed, *refused* that the copy stopped with a message naming table, column and type (and the
row key for a value). Options a case runs with are shown after its outcome.

A MariaDB GEOMETRY (POINT, POLYGON, ...) arrives on PostgreSQL as EWKB: WKB, with the value's
SRID flagged into its type word when it is not 0 (PostGIS's own binary form, what
`geometry::bytea` gives), in a PostGIS `geometry` column where the extension is installed in
the target database, else in `bytea` (`ST_GeomFromEWKB` reads it). A MariaDB ENUM arrives as a
`varchar` as wide as its longest member (every member kept exactly; no PostgreSQL enum type is
created), a SET as a `varchar` wide enough for all its members joined by commas.
"""


def edge_rows() -> list[str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("sluice_edges", EDGES_FILE)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    lines = ["| from | declaration | to | target type | outcome | edge values |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for e in mod.EDGES:
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


def render() -> str:
    parts = [INTRO, *neutral_table(), MSSQL_INTRO, *mssql_table(), PG_OWN_INTRO, *pg_own_table(),
             MARIADB_OWN_INTRO, *own_table("mysql"), MSSQL_OWN_INTRO, *own_table("mssql"),
             EDGES_INTRO, *edge_rows()]  # fmt: skip
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
