"""Row filters, columns left out and masked columns (issue 24, ADR 0016), through the `sluice`
command between real PostgreSQL and MariaDB, both ways.

Every expectation is read from both databases directly (psycopg, pymysql), never through
sluice: the target holds exactly the source rows a `--where` selects; verify with the same
filter matches and without it does not; sync with the filter deletes nothing outside it; a
hashed column masks alike across runs and tables, and no source value reaches the target; a
column left out is absent.
"""

from __future__ import annotations

import json
import logging

import pytest
from tests.conftest import _fresh
from tests.independent import execute, rows

from sluice.cli.main import main
from sluice.core.urls import DbUrl

SECRET = "t24-mask-secret-9f3c1a"  # must never be printed
PEOPLE = 60
WHERE = "age >= 40"  # the same SQL on both engines


def source_sql(engine: str) -> list[str]:
    return [
        "CREATE TABLE people (id integer PRIMARY KEY, name varchar(100) NOT NULL, "
        "email varchar(200), age integer NOT NULL, city varchar(40))",
        "CREATE TABLE orders (id integer PRIMARY KEY, person_email varchar(200), "
        "amount numeric(10,2), note text)",
        "INSERT INTO people VALUES "
        + ", ".join(
            f"({i}, 'person {i}', 'p{i}@example.org', {18 + i % 50}, 'city {i % 7}')"
            for i in range(1, PEOPLE + 1)
        ),
        "INSERT INTO orders VALUES "
        + ", ".join(
            f"({i}, 'p{1 + i % PEOPLE}@example.org', {i}.25, 'order {i}')" for i in range(1, 41)
        ),
    ]


def columns(url: DbUrl, table: str) -> dict[str, str]:
    """Column -> is_nullable, from the target's information_schema."""
    schema = "public" if url.engine == "postgresql" else url.database
    found = rows(url, "SELECT column_name, is_nullable FROM information_schema.columns "
                      f"WHERE table_schema = '{schema}' AND table_name = '{table}'")  # fmt: skip
    return {str(c): str(n) for c, n in found}


def sluice(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


PAIRS = [("pg", "mysql"), ("mysql", "pg")]


def databases(source_server: DbUrl, target_server: DbUrl):
    """A fresh source holding `source_sql` and a fresh, empty target, dropped afterwards."""
    made = [_fresh(source_server, "t24f_src"), _fresh(target_server, "t24f_dst")]
    source, target = (next(g) for g in made)
    execute(source, *source_sql(source.engine))
    yield source, target
    for gen in made:
        next(gen, None)


@pytest.fixture(params=PAIRS, ids=["pg-mariadb", "mariadb-pg"])
def pair(request, pg_server: DbUrl, mysql_server: DbUrl, monkeypatch):
    monkeypatch.setenv("SLUICE_MASK_KEY", SECRET)
    servers = {"pg": pg_server, "mysql": mysql_server}
    yield from databases(*(servers[side] for side in request.param))


@pytest.fixture(scope="module")
def refusing(pg_server: DbUrl, mysql_server: DbUrl):
    """One PostgreSQL source and MariaDB target for the refusals (made before any data)."""
    yield from databases(pg_server, mysql_server)


def ends(source: DbUrl, target: DbUrl) -> list[str]:
    return ["--source", source.render_secret(), "--target", target.render_secret()]


def test_where_copies_exactly_the_filtered_rows_and_verifies_through_the_filter(pair, capsys):
    source, target = pair
    code, out = sluice(capsys, "plan", *ends(source, target), "--where", f"people: {WHERE}")
    wanted = rows(source, f"SELECT id FROM people WHERE {WHERE} ORDER BY id")
    assert code == 0, out
    assert f"people: rows where ({WHERE}): {len(wanted):,} selected (--where)" in out
    assert 0 < len(wanted) < PEOPLE

    code, out = sluice(capsys, "copy", *ends(source, target), "--where", f"people: {WHERE}")
    assert code == 0, out
    assert rows(target, "SELECT id FROM people ORDER BY id") == wanted
    assert len(rows(target, "SELECT id FROM orders")) == 40  # other tables: every row

    code, out = sluice(capsys, "verify", *ends(source, target), "--where", f"people: {WHERE}")
    assert code == 0, out
    assert f"people: source rows where ({WHERE}) only (--where)" in out
    code, out = sluice(capsys, "verify", *ends(source, target))  # the whole source
    assert code != 0 and "MISMATCH" in out.upper(), out


def test_sync_with_a_filter_deletes_nothing_outside_it(pair, capsys):
    source, target = pair
    where = ["--where", f"people: {WHERE}", "--mask", "people.email=hash"]
    assert sluice(capsys, "copy", *ends(source, target), *where)[0] == 0
    masked = rows(target, "SELECT id, email FROM people ORDER BY id")
    inside = rows(source, f"SELECT MIN(id) FROM people WHERE {WHERE}")[0][0]
    outside = rows(source, f"SELECT MIN(id) FROM people WHERE NOT ({WHERE})")[0][0]
    leaving = rows(source, f"SELECT MAX(id) FROM people WHERE {WHERE}")[0][0]
    execute(
        source,
        f"DELETE FROM people WHERE id IN ({inside}, {outside})",
        f"UPDATE people SET age = 10 WHERE id = {leaving}",  # leaves the filter, still there
        "INSERT INTO people VALUES (1001, 'new in', 'n1@example.org', 70, 'x'), "
        "(1002, 'new out', 'n2@example.org', 20, 'y')",
    )
    before = {r[0] for r in rows(target, "SELECT id FROM people")}
    assert inside in before and leaving in before and outside not in before
    code, out = sluice(capsys, "sync", *ends(source, target), *where)
    assert code == 0, out
    after = {r[0] for r in rows(target, "SELECT id FROM people")}
    assert after == (before - {inside}) | {1001}  # the row that left the filter is kept
    assert rows(target, f"SELECT age FROM people WHERE id = {leaving}")[0][0] >= 40
    (new,) = rows(target, "SELECT email FROM people WHERE id = 1001")[0]
    assert len(new) == 64 and "@" not in new  # sync masks as the copy did
    kept = {i: e for i, e in masked if i in after}
    assert dict(rows(target, "SELECT id, email FROM people WHERE id < 1000")) == kept


def test_hash_masks_alike_across_runs_and_tables_and_verifies(pair, capsys, caplog):
    source, target = pair
    caplog.set_level(logging.DEBUG)  # every log line, to check that the secret is in none
    masks = ["--mask", "people.email=hash", "--mask", "orders.person_email=hash",
             "--mask", "people.age=hash"]  # fmt: skip
    code, out = sluice(capsys, "-v", "copy", *ends(source, target), *masks)
    assert code == 0 and SECRET not in out, out
    first = rows(target, "SELECT id, email, age FROM people ORDER BY id")
    code, out = sluice(capsys, "copy", *ends(source, target), *masks)  # a second run
    assert code == 0, out
    assert rows(target, "SELECT id, email, age FROM people ORDER BY id") == first
    emails = {r[0] for r in rows(source, "SELECT email FROM people")}
    masked = [r[1] for r in first]
    assert not emails & set(masked) and all(len(m) == 64 for m in masked)
    assert all(-(2**31) <= r[2] < 2**31 for r in first)
    ages = {r[0] for r in rows(source, "SELECT age FROM people")}
    assert [r[2] for r in first] != [
        a for (a,) in rows(source, "SELECT age FROM people ORDER BY id")
    ]
    assert len({r[2] for r in first}) == len(ages)  # one masked age per distinct age
    join = "SELECT COUNT(*) FROM orders o JOIN people p ON p.email = o.person_email"
    assert rows(target, join) == rows(source, join)  # joins on masked keys still match
    everything = " ".join(str(v) for t in ("people", "orders")
                          for r in rows(target, f"SELECT * FROM {t}") for v in r)  # fmt: skip
    assert not any(e in everything for e in emails)

    code, out = sluice(capsys, "-v", "verify", *ends(source, target), *masks)
    assert code == 0 and SECRET not in out, out
    assert "people.email: source values masked (hash) before comparing" in out
    code, out = sluice(capsys, "verify", *ends(source, target))  # unmasked: differs
    assert code != 0, out

    code, out = sluice(capsys, "plan", *ends(source, target), *masks, "--json")
    assert code == 0 and SECRET not in out
    assert caplog.records and SECRET not in caplog.text
    assert json.loads(out)["tables"][0]["masks"]


def test_exclude_null_and_fixed_masks(pair, capsys, tmp_path):
    source, target = pair
    opts = ["--exclude-columns", "people.city,orders.note", "--mask", "people.name=null",
            "--mask", "orders.amount=fixed:9.5"]  # fmt: skip
    code, out = sluice(capsys, "copy", *ends(source, target), *opts)
    assert code == 0, out
    people, orders = columns(target, "people"), columns(target, "orders")
    assert "city" not in people and "note" not in orders and "email" in people
    assert people["name"] == "YES"  # created nullable for the null mask
    assert {r[0] for r in rows(target, "SELECT name FROM people")} == {None}
    assert {float(r[0]) for r in rows(target, "SELECT amount FROM orders")} == {9.5}
    html = tmp_path / "report.html"
    code, out = sluice(capsys, "verify", *ends(source, target), *opts, "--html", str(html))
    assert code == 0, out
    assert "people: city left out on both sides (--exclude-columns)" in out
    assert "orders.amount: source values masked (fixed:9.5)" in html.read_text()


@pytest.mark.parametrize("argv, named", [
    (["--where", "nosuch: id > 1"], "--where names a table that is not selected: nosuch"),
    (["--tables", "orders", "--where", "people: id > 1"], "not selected: people"),
    (["--where", "people: nosuch > 1"],
     "--where people: the source refused the condition (nosuch > 1): column "),
    (["--where", "people: age >"], "--where people: the source refused the condition (age >)"),
    (["--exclude-columns", "people.id"], "'id' is in the primary key of people"),
    (["--exclude-columns", "people.nope"], "table people has no column 'nope'"),
    (["--mask", "orders.amount=hash"], "--mask orders.amount=hash: type decimal"),
    (["--mask", "people.id=hash"], "a primary-key column hashed into an integer range"),
    (["--mask", "people.city=fixed:" + "x" * 41], "does not fit string"),
    (["--mask", "people.age=fixed:abc"], "--mask people.age: 'abc' does not fit integer"),
])  # fmt: skip
def test_refusals_name_the_table_and_column(refusing, capsys, monkeypatch, argv, named):
    source, target = refusing
    monkeypatch.setenv("SLUICE_MASK_KEY", SECRET)
    code, out = sluice(capsys, "copy", *ends(source, target), *argv)
    assert code == 2 and named in out, out
    assert rows(target, "SELECT 1") == [(1,)]  # reachable, and nothing was made in it
    assert not columns(target, "people")


def test_a_hash_mask_without_its_key_names_the_variable(refusing, capsys, monkeypatch):
    source, target = refusing
    monkeypatch.delenv("SLUICE_MASK_KEY", raising=False)
    code, out = sluice(capsys, "copy", *ends(source, target), "--mask", "people.email=hash")
    assert code == 2 and "SLUICE_MASK_KEY" in out, out
    assert not columns(target, "people")


@pytest.fixture(params=["pg", "mysql"], ids=["pg-pg", "mariadb-mariadb"])
def same_engine(request, pg_server: DbUrl, mysql_server: DbUrl, monkeypatch):
    monkeypatch.setenv("SLUICE_MASK_KEY", SECRET)
    server = {"pg": pg_server, "mysql": mysql_server}[request.param]
    yield from databases(server, server)


def test_same_engine_fast_paths_read_through_the_filter_and_masks_fall_back(
    same_engine, capsys, tmp_path
):
    """Between two servers of one engine the unmasked table moves raw (PostgreSQL's COPY) and
    verifies by the servers' digests, both through the filter; the masked table is decoded
    and compared by the canonical method, and the report says why."""
    source, target = same_engine
    opts = ["--where", f"people: {WHERE}", "--exclude-columns", "people.city",
            "--mask", "orders.person_email=hash"]  # fmt: skip
    code, out = sluice(capsys, "plan", *ends(source, target), *opts, "--json")
    assert code == 0, out
    planned = {t["table"]["name"]: t for t in json.loads(out)["tables"]}
    assert not planned["orders"]["passthrough"]
    if source.engine == "postgresql":
        assert planned["people"]["passthrough"]  # raw COPY, through the filter
    code, out = sluice(capsys, "copy", *ends(source, target), *opts)
    assert code == 0, out
    assert rows(target, "SELECT id FROM people ORDER BY id") == rows(
        source, f"SELECT id FROM people WHERE {WHERE} ORDER BY id")  # fmt: skip
    assert "city" not in columns(target, "people")
    saved = tmp_path / "report.json"
    code, out = sluice(capsys, "verify", *ends(source, target), *opts, "--json", str(saved))
    assert code == 0, out
    report = json.loads(saved.read_text())
    methods = {t["table"]: t["method"] for t in report["tables"]}
    assert methods == {"people": "native", "orders": "canonical"}, methods
    assert any("canonical method" in line for line in report["filtered_or_masked"])


@pytest.mark.parametrize("command", ["plan", "verify", "sync"])
def test_every_command_refuses_a_condition_the_source_refuses(refusing, capsys, command):
    source, target = refusing
    code, out = sluice(capsys, command, *ends(source, target), "--where", "people: nosuch > 1")
    assert code == 2 and "--where people: the source refused the condition" in out, out


def test_filters_and_masks_name_source_columns_under_renamed_identifiers(same_engine, capsys):
    """Options name the source's tables and columns; with --identifiers snake the target's
    names differ, and the filter, the mask and the column left out still apply."""
    source, target = same_engine
    q = (lambda n: f'"{n}"') if source.engine == "postgresql" else (lambda n: n)
    execute(source, f"CREATE TABLE {q('MixedCase')} ({q('Id')} integer PRIMARY KEY, "
                    f"{q('EmailAddr')} varchar(100), {q('Score')} integer, "
                    f"{q('Note')} varchar(20))",
            f"INSERT INTO {q('MixedCase')} VALUES (1, 'a@x.org', 5, 'n1'), "
            "(2, 'b@x.org', 50, 'n2'), (3, NULL, 70, 'n3')")  # fmt: skip
    score = q("Score")
    opts = ["--identifiers", "snake", "--tables", "MixedCase", "--where",
            f"MixedCase: {score} > 10", "--mask", "MixedCase.EmailAddr=hash",
            "--exclude-columns", "MixedCase.Note"]  # fmt: skip
    code, out = sluice(capsys, "copy", *ends(source, target), *opts)
    assert code == 0, out
    got = rows(target, "SELECT id, email_addr, score FROM mixed_case ORDER BY id")
    assert [(r[0], r[2]) for r in got] == [(2, 50), (3, 70)]
    assert len(got[0][1]) == 64 and got[1][1] is None  # masked; NULL stays NULL
    assert set(columns(target, "mixed_case")) == {"id", "email_addr", "score"}
    code, out = sluice(capsys, "verify", *ends(source, target), *opts)
    assert code == 0, out
