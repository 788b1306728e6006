"""Refusals a user can act on, through the `sluice` command and the real servers.

Each refusal case runs as a user runs it: one line on stderr, `error: table 'T', column
'C': ...` naming what would carry it, never Python or driver internals. Then the tables
that can be copied still are: `--skip-refused` copies the rest and names each skipped table
with its reason in the plan, the summary, the JSON and verify; `--exclude-tables` leaves
tables out by name; sync does the same.
"""

from __future__ import annotations

import json
import re

import pytest

from sluice.cli.main import main
from tests.conformance.test_mariadb_pg import query, run_sql

LEDGER = {"sluice_copy_tables", "sluice_copy_chunks"}  # the copy's own (ADR 0018), kept empty
FORBIDDEN = re.compile(r"Traceback|object has no attribute|descriptor|\(\d{4}, '|internal error")
PG_SOURCE = [
    'CREATE TABLE "ok" ("id" int PRIMARY KEY, "name" text)',
    "INSERT INTO \"ok\" VALUES (1, 'a'), (2, 'b')",
    'CREATE TABLE "net" ("id" int PRIMARY KEY, "addr" inet, "tags" text[])',
    "INSERT INTO \"net\" VALUES (1, '10.0.0.1/8', '{a,NULL}')",
    'CREATE TABLE "tz" ("id" int PRIMARY KEY, "t" timetz)',
    "INSERT INTO \"tz\" VALUES (1, '24:00:00-03')",
    'CREATE TABLE "inf" ("id" int PRIMARY KEY, "d" date)',
    "INSERT INTO \"inf\" VALUES (1, '2020-01-01'), (2, 'infinity')",
]


def sluice(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, *fragments: str) -> str:
    """The single `error:` line of stderr, holding every fragment and no internals."""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    line = lines[0]
    assert re.match(
        r"error: (table '[^']+', column '[^']+'(, key [^:]+)?: |lossy conversions)", line
    ), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} missing: {line}"
    assert not FORBIDDEN.search(err), err
    return line


@pytest.fixture
def pg_to_my(pg_db, mysql_db):
    run_sql(pg_db, PG_SOURCE)
    return ["--source", pg_db.render_secret(), "--target", mysql_db.render_secret()]


def test_each_refusal_is_one_line_naming_what_carries_it(capsys, pg_to_my, mysql_db):
    code, _, err = sluice(capsys, "plan", *pg_to_my)
    assert code == 1
    line = one_line_error(err, "table 'net', column 'addr': type inet", "--carry-as-text",
                          "column 'tags'", "--skip-refused", "--exclude-tables net")  # fmt: skip
    assert "'ok'" not in line  # a table that can be copied is not refused
    code, _, err = sluice(capsys, "copy", *pg_to_my, "--tables", "tz")
    assert code == 2
    line = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(line) == 1 and not FORBIDDEN.search(err), err
    for fragment in ("tz.t", "time with time zone", "--allow-lossy", "--carry-as-text"):
        assert fragment in line[0], line[0]
    code, _, err = sluice(capsys, "copy", *pg_to_my, "--tables", "inf")
    assert code == 1
    one_line_error(err, "table 'inf', column 'd', key 2", "infinity")
    code, _, err = sluice(capsys, "plan", *pg_to_my, "--exclude-tables", "nosuch")
    assert code == 2 and "nosuch" in err and not FORBIDDEN.search(err), err


def test_mariadb_refusals_are_one_line(capsys, mysql_db, pg_db):
    run_sql(mysql_db, ["CREATE TABLE big (id SERIAL, v int)",
                       "INSERT INTO big VALUES (9223372036854775808, 1)",
                       "CREATE TABLE zd (id int PRIMARY KEY, d date)",
                       "INSERT INTO zd VALUES (1, '2020-01-01'), (2, '0000-00-00')"],
            sql_mode="")  # fmt: skip
    ends = ["--source", mysql_db.render_secret(), "--target", pg_db.render_secret()]
    code, _, err = sluice(capsys, "copy", *ends, "--tables", "big")
    assert code == 1
    one_line_error(err, "table 'big', column 'id'", "identity", "--exclude-tables big")
    code, _, err = sluice(capsys, "copy", *ends, "--tables", "zd")
    assert code == 1
    one_line_error(err, "table 'zd', column 'd', key 2", "zero date", "--zero-dates")


def test_skip_refused_copies_the_rest_and_names_each_skipped_table(
    capsys, tmp_path, pg_to_my, mysql_db
):
    code, out, _ = sluice(capsys, "plan", *pg_to_my, "--skip-refused", "--json")
    assert code == 0
    skipped = {s["table"]: s["reason"] for s in json.loads(out)["skipped"]}
    assert set(skipped) == {"net", "tz"}, skipped  # tz: lossy, not asked for
    assert "--carry-as-text" in skipped["net"] and "--allow-lossy" in skipped["tz"]
    summary = tmp_path / "copy.json"
    code, out, err = sluice(capsys, "copy", *pg_to_my, "--skip-refused", "--exclude-tables",
                            "inf", "--json", str(summary))  # fmt: skip
    assert code == 0, err
    assert "3 table(s) skipped" in out and "skipped inf: excluded by --exclude-tables" in out
    listed = {s["table"] for s in json.loads(summary.read_text())["skipped"]}
    assert listed == {"net", "tz", "inf"}
    assert query(mysql_db, "SELECT id, name FROM ok ORDER BY id") == [(1, "a"), (2, "b")]
    tables = {r[0] for r in query(mysql_db, "SHOW TABLES")} - LEDGER
    assert tables == {"ok"}, tables
    code, out, _ = sluice(capsys, "verify", *pg_to_my, "--skip-refused", "--exclude-tables",
                          "inf", "--no-checks")  # fmt: skip
    assert code == 0 and "verify: MATCH" in out and "3 table(s) skipped" in out, out
    # without --skip-refused the same copy is refused, exit 1: skipping is only on request
    code, _, err = sluice(capsys, "copy", *pg_to_my, "--exclude-tables", "inf")
    assert code == 1 and "--skip-refused" in err


def test_skip_refused_skips_a_table_refused_for_a_value_mid_copy(capsys, tmp_path, pg_to_my,
                                                                   mysql_db):  # fmt: skip
    """'infinity' is found only while copying: --skip-refused leaves that table out, named
    with its column and key, publishes the others, and --verify checks those (exit 0)."""
    summary = tmp_path / "copy.json"
    code, out, err = sluice(capsys, "copy", *pg_to_my, "--skip-refused", "--verify",
                            "--no-checks", "--json", str(summary))  # fmt: skip
    assert code == 0, err
    assert "skipped inf: column 'd', key 2: 'infinity'" in out, out
    assert "verify: MATCH" in out and not FORBIDDEN.search(out + err), out + err
    listed = {s["table"]: s["reason"] for s in json.loads(summary.read_text())["skipped"]}
    assert set(listed) == {"net", "tz", "inf"} and "key 2" in listed["inf"], listed
    assert {r[0] for r in query(mysql_db, "SHOW TABLES")} - LEDGER == {"ok"}  # no staging left
    assert query(mysql_db, "SELECT id, name FROM ok ORDER BY id") == [(1, "a"), (2, "b")]
    code, _, err = sluice(capsys, "copy", *pg_to_my, "--skip-refused", "--exclude-tables", "ok",
                          "--allow-empty")  # fmt: skip
    assert code == 0, err  # every table skipped or excluded: nothing published, said


def test_carry_as_text_then_sync_with_skips(capsys, pg_to_my, mysql_db, pg_db):
    code, out, err = sluice(capsys, "copy", *pg_to_my, "--carry-as-text", "--exclude-tables",
                            "inf")  # fmt: skip
    assert code == 0, err
    assert query(mysql_db, "SELECT addr, tags FROM net") == [("10.0.0.1/8", "{a,NULL}")]
    assert query(mysql_db, "SELECT t FROM tz") == [("24:00:00-03",)]
    run_sql(pg_db, ["INSERT INTO \"net\" VALUES (2, '::1', '{}')"])
    code, out, err = sluice(capsys, "sync", *pg_to_my, "--carry-as-text", "--skip-refused",
                            "--exclude-tables", "inf")  # fmt: skip
    assert code == 0, err
    assert "1 table(s) skipped" in out and "skipped inf" in out, out
    got = query(mysql_db, "SELECT id, addr, tags FROM net ORDER BY id")
    assert got == [(1, "10.0.0.1/8", "{a,NULL}"), (2, "::1", "{}")]
    code, out, _ = sluice(capsys, "verify", *pg_to_my, "--carry-as-text", "--exclude-tables",
                          "inf", "--no-checks", "--rows")  # fmt: skip
    assert code == 0 and "verify: MATCH" in out, out
