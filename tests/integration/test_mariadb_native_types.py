"""MariaDB -> MariaDB carries every type MariaDB holds (issue 21, ADR 0013): the integers signed
and unsigned, DECIMAL(65,30), FLOAT/DOUBLE, BIT(n), SET, ENUM, the GEOMETRY family with SRIDs,
JSON, YEAR, DATE/DATETIME/TIMESTAMP with precision, TIME's full range, zero dates, the text
and blob sizes, BINARY/VARBINARY, CHAR in other character sets and collations, INET4, INET6,
UUID and SERIAL, with edge values, copied by `sluice copy`, proven by `sluice verify` (native
and --canonical) AND by an independent read of both databases: per row, every column's hex
or server text (plain PyMySQL and SQL, nothing of sluice's), and every column's COLUMN_TYPE,
character set, collation, SRID and CHECK equal on both sides."""

from __future__ import annotations

import pymysql
import pytest
from tests.conftest import _fresh
from tests.integration.copy_checks import copy_and_verify_both_ways
from tests.integration.mariadb_native_data import DATA, TABLES

from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan
from sluice.core.errors import UnmappableType
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database

# zero dates allowed, and UTC: the same instants on both sides whatever the server's zone
SESSION = ("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
           "SET SESSION time_zone = '+00:00'")  # fmt: skip
COLUMNS_SQL = """
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.CHARACTER_SET_NAME,
       c.COLLATION_NAME, c.IS_NULLABLE, g.SRID, k.CHECK_CLAUSE
FROM information_schema.COLUMNS c
LEFT JOIN information_schema.GEOMETRY_COLUMNS g ON g.G_TABLE_SCHEMA = c.TABLE_SCHEMA
  AND g.G_TABLE_NAME = c.TABLE_NAME AND g.G_GEOMETRY_COLUMN = c.COLUMN_NAME
LEFT JOIN information_schema.CHECK_CONSTRAINTS k ON k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA
  AND k.TABLE_NAME = c.TABLE_NAME AND k.CONSTRAINT_NAME = c.COLUMN_NAME
WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME NOT LIKE '\\_sluice%%'
  AND c.TABLE_NAME NOT LIKE 'sluice\\_%%' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
"""
TEXTUAL = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set",
           "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit"}  # fmt: skip


def connect(url: DbUrl):
    u = url.url
    conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username,
                           password=url.password or "", database=u.database,
                           charset="utf8mb4")  # fmt: skip
    cur = conn.cursor()
    for stmt in SESSION:
        cur.execute(stmt)
    return conn


def run_sql(url: DbUrl, statements) -> None:
    conn = connect(url)
    try:
        for stmt in statements:
            conn.cursor().execute(stmt)
        conn.commit()
    finally:
        conn.close()


def _expr(column: str, data_type: str) -> str:
    """A column as its exact text: bytes in hex for strings, binaries and bits; geometry as
    its SRID and WKB; FLOAT as the double it holds; the rest as the server writes it."""
    q = f"`{column}`"
    if data_type in TEXTUAL:
        text = f"HEX({q})"
    elif data_type in ("float",):
        text = f"CAST(CAST({q} AS DOUBLE) AS CHAR)"
    elif data_type in ("geometry", "point", "linestring", "polygon", "multipoint",
                       "multilinestring", "multipolygon", "geometrycollection"):  # fmt: skip
        text = f"CONCAT(ST_SRID({q}), ':', HEX(ST_AsBinary({q})))"
    else:
        text = f"CAST({q} AS CHAR)"
    return f"IFNULL(CONCAT('=', {text}), 'NULL')"


def independent_read(url: DbUrl) -> dict:
    conn = connect(url)
    try:
        cur = conn.cursor()
        cur.execute(COLUMNS_SQL)
        columns = cur.fetchall()
        out: dict = {"columns": columns}
        for table, key in TABLES.items():
            exprs = [_expr(c[1], c[2]) for c in columns if c[0] == table]
            cur.execute(f"SELECT CONCAT_WS('|', {', '.join(exprs)}) FROM `{table}` "
                        f"ORDER BY {key}")  # fmt: skip
            out[table] = cur.fetchall()
        return out
    finally:
        conn.close()


@pytest.fixture
def mariadb_source(mysql_server):
    for url in _fresh(mysql_server, "sluice_mnative"):
        run_sql(url, DATA)
        yield url


def test_every_mariadb_type_copies_exactly(mariadb_source, mysql_db, tmp_path):
    copy_and_verify_both_ways(mariadb_source, mysql_db, tmp_path)
    src, dst = independent_read(mariadb_source), independent_read(mysql_db)
    for part in src:
        assert dst[part] == src[part], f"{part}: the target differs from the source"
    declared = {(t, c): (ct, cs, co, srid, chk) for t, c, _, ct, cs, co, _, srid, chk
                in src["columns"]}  # fmt: skip
    assert len(declared) == 79  # every column of every table compared by its declaration
    assert declared[("t_geometry", "p")][3] == 4326  # the column's SRID
    assert declared[("t_json", "j")][4] == "json_valid(`j`)"  # still JSON
    assert declared[("t_texts", "c")][1:3] == ("latin1", "latin1_german1_ci")
    assert declared[("t_serial", "id")][0] == "bigint(20) unsigned"
    assert src["t_json"][0] == ("=1|=7B226B223A312C226B223A327D|=6475706C6963617465206B657973",)
    times = src["t_times"]
    assert times[2][0].startswith("=3|=0000|=0000-00-00|=0000-00-00 00:00:00|")  # zero dates
    assert "|=-838:59:59|=-838:59:59.999999|" in times[0][0]
    # the plan: every column exact, the MariaDB types kept as they are declared
    plan = build_plan(mariadb_source, mysql_db)
    maps = {(t.name, m.name): m for t in plan.tables for m in t.columns}
    assert {m.fidelity for m in maps.values()} == {"exact"}
    assert maps[("t_sets", "e")].target_type.startswith("enum('x','y z','it''s','')")
    assert maps[("t_geometry", "p")].target_type == "point REF_SYSTEM_ID=4326"
    assert maps[("t_json", "j")].target_type == "JSON"


def test_verify_fails_on_damaged_mariadb_values(mariadb_source, mysql_db):
    """Both methods see a bit flipped, a SET member lost, a SRID changed, a duplicate JSON
    key folded, TIME cut to a day, a zero date made NULL, a pad byte of BINARY changed."""
    copy_database(mariadb_source, mysql_db, CopyOptions())
    run_sql(mysql_db, [
        "UPDATE t_bits SET b64 = 0x7FFFFFFFFFFFFFFF WHERE id = 2",
        "UPDATE t_sets SET s = 'a' WHERE id = 2",
        "UPDATE t_geometry SET g = ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 0) "
        "WHERE id = 2",
        """UPDATE t_json SET j = '{"k":2}' WHERE id = 1""",
        "UPDATE t_times SET t = '22:59:59' WHERE id = 2",
        "UPDATE t_times SET d = NULL WHERE id = 3",
        "UPDATE t_binaries SET b = 0x61000001 WHERE id = 1",
    ])  # fmt: skip
    for native in (True, False):
        report = verify_database(mariadb_source, mysql_db,
                                 VerifyOptions(native=native, rows=True, checks=False))  # fmt: skip
        bad = {t.name: sorted(k for r in t.mismatches for k in r.changed) for t in report.tables}
        assert {k: v for k, v in bad.items() if v} == {
            "t_bits": [(2,)], "t_sets": [(2,)], "t_geometry": [(2,)], "t_json": [(1,)],
            "t_times": [(2,), (3,)], "t_binaries": [(1,)],
        }, native  # fmt: skip
        methods = {t.method for t in report.tables}
        assert methods == {"native" if native else "canonical"}
        columns = {t.name: [c for r in t.mismatches for c in r.columns.values()]
                   for t in report.tables}  # fmt: skip
        assert columns["t_times"] == [["t"], ["d"]], native


def test_mariadb_types_to_postgresql_are_refused_by_name(mariadb_source, pg_db):
    """INET has no neutral kind: another engine refuses it, naming it; the geometry family
    goes to PostgreSQL as EWKB (bytea here: no PostGIS on this server), every value exact."""
    with pytest.raises(UnmappableType) as err:
        copy_database(mariadb_source, pg_db, CopyOptions(tables=["t_geometry", "t_new_types"]))
    said = str(err.value)
    assert "column 'i6': type inet6" in said and "t_geometry" not in said
    assert "Traceback" not in said and "NoneType" not in said
    result = copy_database(mariadb_source, pg_db, CopyOptions(tables=["t_geometry"]))
    assert result.ok, result.failures
    plan = result.plan.table("t_geometry")
    assert {c.target_type for c in plan.columns if c.name != plan.key[0]} == {"BYTEA"}


def test_an_enum_error_value_is_refused(mysql_server, mysql_db):
    """An ENUM's error value '' (stored outside strict mode) cannot be written by a strict
    session: the copy fails for that table, naming it and the column, and stores nothing
    else in its place."""
    for source in _fresh(mysql_server, "sluice_menum"):
        run_sql(source, ["SET SESSION sql_mode = ''",
                         "CREATE TABLE e (id int PRIMARY KEY, v enum('a','b'))",
                         "INSERT INTO e VALUES (1, 'a'), (7, 'bogus')",
                         "CREATE TABLE fine (id int PRIMARY KEY)"])  # fmt: skip
        result = copy_database(source, mysql_db, CopyOptions())
        assert not result.ok
        said = " | ".join(result.failures)
        # one line naming table, column, key and value: never the driver's (1265, '...')
        assert "table 'e', column 'v', key 7: '' was refused by the server" in said, said
        assert "ENUM" in said and "1265" not in said and "at row" not in said, said
        conn = connect(mysql_db)
        try:
            cur = conn.cursor()
            cur.execute("SHOW TABLES")
            assert "e" not in {r[0] for r in cur.fetchall()}  # e was never published
        finally:
            conn.close()


def test_zero_dates_follow_the_target_session(mysql_db):
    """sluice's MariaDB session adds STRICT_ALL_TABLES to the server's sql_mode and keeps the
    rest: zero dates are stored where the server allows them (this one: no NO_ZERO_DATE) and
    refused as a value, which the copy names by key, where NO_ZERO_DATE forbids them."""
    dialect = get_dialect(mysql_db.engine)
    conn = dialect.connect(mysql_db)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE z (id int PRIMARY KEY, d date)")
        plan = build_plan(mysql_db, mysql_db)
        table = plan.tables[0].table
        dialect.bulk_load(conn, table, [(1, "0000-00-00"), (2, "2020-00-15")])
        conn.commit()
        cur.execute("SELECT CAST(d AS CHAR) FROM z ORDER BY id")
        assert cur.fetchall() == (("0000-00-00",), ("2020-00-15",))
        cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_ZERO_DATE,NO_ZERO_IN_DATE')")
        with pytest.raises(pymysql.err.MySQLError) as err:
            dialect.bulk_load(conn, table, [(3, "0000-00-00")])
        assert dialect.rejects_value(err.value)  # named by key on the copy's failure path
    finally:
        conn.close()
