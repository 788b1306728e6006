"""`sluice verify` can fail: a replica damaged the way a wrong type mapping would damage it
is reported by both methods, naming the table, the row key and the column.

Per engine pair, one small table per type family is copied exactly (`sluice copy`; tables
today's copy cannot carry exactly are built on the target with SQL, holding the source's
values), verified clean by both methods, then damaged in the target with SQL: an integer
folded to boolean, a duration taken modulo 24 h, a time's offset dropped, two same JSON keys
folded into one, trailing spaces trimmed, a NULL made '', a decimal rounded, a float's last
bit changed, text normalised NFC -> NFD, a timestamp shifted by an hour, a row deleted.
Each damaged row is a key of its own, so one verification per method checks every mutation:
the real CLI must exit 1 and its report name each damaged key as changed (with its column)
or missing, and no undamaged key. Row text is compared by an independent read (server-side
casts to text) before the damage, so "clean" is not the encoder judging itself.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Decimal

from tests.independent import execute, rows

NFC, NFD = "\u00e9t\u00e9", "e\u0301te\u0301"
F = repr(0.1)
F_NEXT = repr(math.nextafter(0.1, 1.0))  # the same float with its last bit changed


def url_text(url) -> str:
    return url.url.render_as_string(hide_password=False)


def sluice(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sluice.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def copy(source, target, tables: list[str]) -> None:
    done = sluice("copy", "--source", url_text(source), "--target", url_text(target),
                  "--tables", ",".join(tables), "--workers", "2")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def verify(source, target, tmp_path, canonical: bool) -> tuple[int, dict, str]:
    report = tmp_path / f"verify-{canonical}.json"
    args = ["verify", "--source", url_text(source), "--target", url_text(target), "--rows",
            "--no-checks", "--workers", "1", "--report", str(report)]  # fmt: skip
    done = sluice(*args, *(["--canonical"] if canonical else []))
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(report.read_text()), done.stdout


def found(report: dict) -> dict[tuple[str, int], str | tuple[str, ...]]:
    """(table, key) -> "missing", "extra", or the changed row's differing columns."""
    out: dict = {}
    for t in report["tables"]:
        for m in t["mismatches"]:
            for kind in ("missing", "extra"):
                out.update({(t["table"], k): kind for k in m.get(kind, [])})
            cols = m.get("changed_columns") or [[]] * len(m.get("changed", []))
            out.update({(t["table"], k): tuple(c) for k, c in zip(m.get("changed", []), cols)})
    return out


def assert_named(source, target, tmp_path, expected: dict, native: set[str]) -> None:
    """Both methods: exit 1, exactly the damaged keys named, each with its column; the
    default run digests `native` tables on the servers, the rest client-side."""
    for canonical in (False, True):
        code, report, out = verify(source, target, tmp_path, canonical)
        how = "--canonical" if canonical else "default"
        assert code == 1, f"{how}: verify passed a damaged replica\n{out}"
        assert found(report) == expected, f"{how}:\n{out}"
        methods = {t["table"]: t["method"] for t in report["tables"]}
        want = {t: "native" if t in native and not canonical else "canonical" for t in methods}
        assert methods == want, how
        for (table, key), what in expected.items():  # the printed line names them too
            shown = f"{key} ({', '.join(what)})" if isinstance(what, tuple) else f"{what}: {key}"
            lines = [ln for ln in out.splitlines() if ln.startswith(f"mismatch: {table}#")]
            assert any(shown in ln for ln in lines), f"{how}: {table} {shown} not in\n{out}"


def assert_clean(source, target, tmp_path) -> None:
    for canonical in (False, True):
        code, report, out = verify(source, target, tmp_path, canonical)
        assert code == 0, f"canonical={canonical}: an exact replica failed verify\n{out}"


# --- PostgreSQL -> PostgreSQL -------------------------------------------------------------------

PG_COPIED = {
    "num": "CREATE TABLE num (id int PRIMARY KEY, n numeric(12,4), f float8, r real)",
    "txt": "CREATE TABLE txt (id int PRIMARY KEY, t text, c char(5), v varchar(20))",
    "ts": "CREATE TABLE ts (id int PRIMARY KEY, tz timestamptz, ntz timestamp)",
    "ints": "CREATE TABLE ints (id int PRIMARY KEY, v int)",
}
PG_ROWS = [
    f"INSERT INTO num VALUES (1, 1.2345, {F}, 0.5), (2, 2.5, {F}, 0.25), (3, 3, {F}, 1),"
    f" (4, -4.0001, {F}, 2)",
    f"INSERT INTO txt VALUES (1, 'ab  ', 'ab', 'x '), (2, NULL, 'cd   ', NULL),"
    f" (3, '{NFC}', NULL, ''), (4, 'same', 'e', 'y')",
    "INSERT INTO ts VALUES (1, '2020-06-01 12:00:00+02', '2020-06-01 12:00:00'),"
    " (2, '1999-12-31 23:59:59.999999+00', '1999-12-31 23:59:59.999999'),"
    " (3, '2020-01-01 00:00:00-05', '2020-01-01 00:00:00')",
    "INSERT INTO ints VALUES (1, 5), (2, -1), (3, 1), (4, 0)",
]
# built on both sides with SQL: today's copy cannot carry these types exactly
PG_BUILT = [
    "CREATE TABLE tz (id int PRIMARY KEY, v timetz)",
    "INSERT INTO tz VALUES (1, '12:00:00+05'), (2, '23:00:00-03:30'), (3, '00:00:00+00')",
    "CREATE TABLE tza (id int PRIMARY KEY, v timetz)",
    "INSERT INTO tza VALUES (1, '12:00:00+05'), (2, '06:30:00+00')",
    "CREATE TABLE js (id int PRIMARY KEY, j json, b jsonb)",
    """INSERT INTO js VALUES (1, '{"k":1,"k":2}', '{"k": 1}'),
       (2, '{"b":1, "a":2}', '{"b": 1, "a": 2}'), (3, '[1, 2]', '{"x": 1.50}'),
       (4, '{"k":1,"k":2}', '{"z": [true, null]}')""",
    "CREATE TABLE jsa (id int PRIMARY KEY, j json)",
    """INSERT INTO jsa VALUES (1, '{"k":1,"k":2}'), (2, '{"a": 1}')""",
]
PG_DAMAGE = [
    "UPDATE num SET n = round(n, 2) WHERE id = 1",  # precision rounded
    f"UPDATE num SET f = {F_NEXT} WHERE id = 2",  # the last bit of a double
    "DELETE FROM num WHERE id = 3",
    "UPDATE num SET f = 0 WHERE id = 4",  # a double's negative zero made 0
    "UPDATE txt SET t = rtrim(t) WHERE id = 1",  # trailing spaces trimmed
    "UPDATE txt SET t = '' WHERE id = 2",  # NULL made ''
    "UPDATE txt SET t = normalize(t, NFD) WHERE id = 3",  # NFC -> NFD
    "UPDATE ts SET tz = tz + interval '1 hour' WHERE id = 1",  # time zone shifted
    "UPDATE ts SET ntz = ntz - interval '1 hour' WHERE id = 3",
    "ALTER TABLE ints ALTER COLUMN v TYPE boolean USING v <> 0",  # int folded to boolean
    "UPDATE tz SET v = '12:00:00+00' WHERE id = 1",  # offset dropped (UTC)
    "ALTER TABLE tza ALTER COLUMN v TYPE time",  # offset dropped by the type
    """UPDATE js SET j = '{"k": 2}' WHERE id = 1""",  # two same keys folded into one
    """UPDATE js SET b = '{"a": 2}' WHERE id = 2""",  # a key lost
    """UPDATE js SET b = '{"x": 1.5}' WHERE id = 3""",  # a number's scale lost
    "ALTER TABLE jsa ALTER COLUMN j TYPE jsonb",  # json folded to jsonb
]
PG_EXPECTED = {
    ("num", 1): ("n",), ("num", 2): ("f",), ("num", 3): "missing", ("num", 4): ("f",),
    ("txt", 1): ("t",), ("txt", 2): ("t",), ("txt", 3): ("t",),
    ("ts", 1): ("tz",), ("ts", 3): ("ntz",),
    ("ints", 1): ("v",), ("ints", 2): ("v",),  # 5 and -1 became true; 1 and 0 round-trip
    ("tz", 1): ("v",), ("tza", 1): ("v",),  # +00 kept as 06:30 with no offset: still differs
    ("tza", 2): ("v",),
    ("js", 1): ("j",), ("js", 2): ("b",), ("js", 3): ("b",),
    ("jsa", 1): ("j",),  # '{"a": 1}' is jsonb's own spelling: the same text, no change
}  # fmt: skip


def independent_rows(url, tables) -> dict[str, list]:
    """Every row's text form, by the server (PostgreSQL's own output functions)."""
    return {t: rows(url, f"SELECT r::text FROM {t} r ORDER BY id") for t in tables}


def test_postgresql_to_postgresql(pg_db, pg_server, tmp_path):
    from tests.conftest import _fresh

    gen = _fresh(pg_server, "sluice_mut")
    target = next(gen)
    try:
        source = pg_db
        # a double's negative zero (PostgreSQL keeps its sign; MariaDB refuses it by key)
        execute(source, *PG_COPIED.values(), *PG_ROWS, "UPDATE num SET f = '-0' WHERE id = 4",
                *PG_BUILT)  # fmt: skip
        copy(source, target, list(PG_COPIED))
        execute(target, *PG_BUILT)
        tables = [*PG_COPIED, "tz", "tza", "js", "jsa"]
        assert independent_rows(source, tables) == independent_rows(target, tables)
        assert_clean(source, target, tmp_path)

        execute(target, *PG_DAMAGE)
        assert rows(target, "SELECT v::text FROM ints ORDER BY id") == [
            ("true",),
            ("true",),
            ("true",),
            ("false",),
        ]
        native = {"num", "txt", "ts", "tz", "js"}  # identical declared types on both sides
        assert_named(source, target, tmp_path, PG_EXPECTED, native)
    finally:
        next(gen, None)


# --- PostgreSQL -> MariaDB ----------------------------------------------------------------------

PG_TO_MY_COPIED = ("num", "txt", "ints")
PG_TO_MY_DAMAGE = [
    "UPDATE num SET n = ROUND(n, 2) WHERE id = 1",
    f"UPDATE num SET f = {F_NEXT} WHERE id = 2",
    "DELETE FROM num WHERE id = 3",
    "UPDATE txt SET t = RTRIM(t) WHERE id = 1",
    "UPDATE txt SET t = '' WHERE id = 2",
    f"UPDATE txt SET t = '{NFD}' WHERE id = 3",
    "UPDATE ints SET v = (v <> 0)",  # int folded to boolean: 5 and -1 become 1
    # PostgreSQL timetz as MariaDB TIME: the offset dropped (no exact MariaDB type exists)
    "CREATE TABLE tz (id int PRIMARY KEY, v TIME(6))",
    "INSERT INTO tz VALUES (1, '12:00:00'), (2, '23:00:00'), (3, '00:00:00')",
]
PG_TO_MY_EXPECTED = {
    ("num", 1): ("n",), ("num", 2): ("f",), ("num", 3): "missing",
    ("txt", 1): ("t",), ("txt", 2): ("t",), ("txt", 3): ("t",),
    ("ints", 1): ("v",), ("ints", 2): ("v",),
    ("tz", 1): ("v",), ("tz", 2): ("v",), ("tz", 3): ("v",),  # +00 is not "no offset"
}  # fmt: skip


def test_postgresql_to_mariadb(pg_db, mysql_db, tmp_path):
    source, target = pg_db, mysql_db
    execute(source, *(PG_COPIED[t] for t in PG_TO_MY_COPIED), *PG_ROWS[:2], PG_ROWS[3])
    copy(source, target, list(PG_TO_MY_COPIED))
    # independently: the servers' own text of the decimals and the bytes of the text agree
    assert rows(source, "SELECT id, n::text FROM num ORDER BY id") == rows(
        target, "SELECT id, CAST(n AS CHAR) FROM num ORDER BY id"
    )
    assert rows(source, "SELECT id, t, encode(t::bytea, 'hex') FROM txt ORDER BY id") == rows(
        target, "SELECT id, t, LOWER(HEX(t)) FROM txt ORDER BY id"
    )
    assert_clean(source, target, tmp_path)

    execute(source, PG_BUILT[0], PG_BUILT[1])  # the timetz source, with its damaged copy
    execute(target, *PG_TO_MY_DAMAGE)
    assert rows(target, "SELECT CAST(v AS CHAR) FROM ints ORDER BY id") == [
        ("1",),
        ("1",),
        ("1",),
        ("0",),
    ]
    assert_named(source, target, tmp_path, PG_TO_MY_EXPECTED, set())


# --- MariaDB -> PostgreSQL ----------------------------------------------------------------------

MY_COPIED = {
    "num": "CREATE TABLE num (id int PRIMARY KEY, n DECIMAL(12,4), f DOUBLE)",
    "txt": "CREATE TABLE txt (id int PRIMARY KEY, t VARCHAR(40), c CHAR(5))",
    "ts": "CREATE TABLE ts (id int PRIMARY KEY, ntz DATETIME(6))",
}
MY_ROWS = [
    f"INSERT INTO num VALUES (1, 1.2345, {F}), (2, 2.5, {F}), (3, 3, {F})",
    f"INSERT INTO txt VALUES (1, 'ab  ', 'ab'), (2, NULL, 'cd'), (3, '{NFC}', NULL)",
    "INSERT INTO ts VALUES (1, '2020-06-01 12:00:00'), (2, '1000-01-01 00:00:00.000001')",
]
# MariaDB types today's copy maps wrongly: the source, and on PostgreSQL their exact twins
MY_BUILT_SOURCE = [
    "CREATE TABLE ints (id int PRIMARY KEY, v TINYINT(1))",
    "INSERT INTO ints VALUES (1, 5), (2, -1), (3, -128), (4, 1), (5, 0)",
    "CREATE TABLE tm (id int PRIMARY KEY, v TIME(6))",
    "INSERT INTO tm VALUES (1, '100:00:00'), (2, '-01:00:00'), (3, '12:00:00'),"
    " (4, '838:59:59.999999')",
    "CREATE TABLE js (id int PRIMARY KEY, j JSON)",
    """INSERT INTO js VALUES (1, '{"k":1,"k":2}'), (2, '[1, 2]')""",
]
MY_BUILT_TARGET = [
    "CREATE TABLE ints (id int PRIMARY KEY, v smallint)",
    "INSERT INTO ints VALUES (1, 5), (2, -1), (3, -128), (4, 1), (5, 0)",
    "CREATE TABLE tm (id int PRIMARY KEY, v interval)",
    "INSERT INTO tm VALUES (1, '100:00:00'), (2, '-01:00:00'), (3, '12:00:00'),"
    " (4, '838:59:59.999999')",
    "CREATE TABLE js (id int PRIMARY KEY, j json)",
    """INSERT INTO js VALUES (1, '{"k":1,"k":2}'), (2, '[1, 2]')""",
]
MY_TO_PG_DAMAGE = [
    "UPDATE num SET n = round(n, 2) WHERE id = 1",
    f"UPDATE num SET f = {F_NEXT} WHERE id = 2",
    "DELETE FROM num WHERE id = 3",
    "UPDATE txt SET t = rtrim(t) WHERE id = 1",
    "UPDATE txt SET t = '' WHERE id = 2",
    "UPDATE txt SET t = normalize(t, NFD) WHERE id = 3",
    "UPDATE ts SET ntz = ntz + interval '1 hour' WHERE id = 1",
    "ALTER TABLE ints ALTER COLUMN v TYPE boolean USING v <> 0",  # TINYINT(1) as boolean
    "ALTER TABLE tm ALTER COLUMN v TYPE time USING v::time",  # TIME modulo 24 h
    "ALTER TABLE js ALTER COLUMN j TYPE jsonb",  # two same keys folded into one
]
MY_TO_PG_EXPECTED = {
    ("num", 1): ("n",), ("num", 2): ("f",), ("num", 3): "missing",
    ("txt", 1): ("t",), ("txt", 2): ("t",), ("txt", 3): ("t",),
    ("ts", 1): ("ntz",),
    ("ints", 1): ("v",), ("ints", 2): ("v",), ("ints", 3): ("v",),  # 5, -1, -128 -> true
    ("tm", 1): ("v",), ("tm", 2): ("v",), ("tm", 4): ("v",),  # 12:00 is 12:00 either way
    ("js", 1): ("j",),  # '[1, 2]' is jsonb's own spelling: the same text, no change
}  # fmt: skip


def test_mariadb_to_postgresql(mysql_db, pg_db, tmp_path):
    source, target = mysql_db, pg_db
    execute(source, *MY_COPIED.values(), *MY_ROWS, *MY_BUILT_SOURCE)
    copy(source, target, list(MY_COPIED))
    execute(target, *MY_BUILT_TARGET)
    both = "FROM num JOIN txt USING (id) ORDER BY id"
    assert rows(source, f"SELECT id, CAST(n AS CHAR), HEX(t) {both}") == rows(
        target, f"SELECT id, n::text, upper(encode(t::bytea, 'hex')) {both}"
    )
    seconds = [  # the built twins hold the same durations, by each server's own arithmetic
        [(i, Decimal(str(v))) for i, v in rows(url, sql)]
        for url, sql in ((source, "SELECT id, TIME_TO_SEC(v) FROM tm ORDER BY id"),
                         (target, "SELECT id, extract(epoch FROM v) FROM tm ORDER BY id"))
    ]  # fmt: skip
    assert seconds[0] == seconds[1]
    assert_clean(source, target, tmp_path)

    execute(target, *MY_TO_PG_DAMAGE)
    assert rows(target, "SELECT v::text FROM tm ORDER BY id") == [
        ("04:00:00",),
        ("23:00:00",),
        ("12:00:00",),
        ("22:59:59.999999",),
    ]
    assert_named(source, target, tmp_path, MY_TO_PG_EXPECTED, set())
