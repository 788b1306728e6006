"""`sluice verify` on real replicas: one flipped value makes it fail, naming the right table,
range and key; `--repair` re-copies that range and verification passes again. Both digest
methods (server-side "native" and client-side "canonical") are exercised PostgreSQL ->
PostgreSQL, and canonical replicas between MariaDB and PostgreSQL verify clean both ways."""

from __future__ import annotations

import json
import re

import pytest
from tests.conftest import _fresh

from sluice.cli import main
from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan
from sluice.datasets.stackoverflow.generate import generate, row_counts
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database, verify_plan
from sluice.verify.quality import QualityRules
from sluice.verify.repair import repair

SCALE = 0.002
RANGE_ROWS = 1_000  # small verify ranges: several per table, so "the right range" means something


@pytest.fixture(scope="module")
def replica(pg_server):
    """A generated source and its PostgreSQL replica, shared: every test repairs what it broke."""
    src_gen, dst_gen = _fresh(pg_server, "sluice_vsrc"), _fresh(pg_server, "sluice_vdst")
    source, target = next(src_gen), next(dst_gen)
    generate(source, SCALE)
    assert copy_database(source, target, CopyOptions(chunk_rows=3_000)).ok
    yield source, target
    next(src_gen, None)
    next(dst_gen, None)


def execute(url, sql: str) -> None:
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def scalar(url, sql: str):
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchone()[0]
    finally:
        conn.close()


# (name, SQL that flips one thing in the target, table, key, how verify must classify it)
FLIPS = [
    ("one character of a text",
     'UPDATE "Posts" SET "Body" = overlay("Body" placing \'#\' from 3 for 1) WHERE "Id" = {k}',
     "Posts", "changed"),
    ("one second of a timestamp",
     'UPDATE "Comments" SET "CreationDate" = "CreationDate" + interval \'1 second\' '
     'WHERE "Id" = {k}', "Comments", "changed"),
    ("one NULL into an empty string",
     'UPDATE "Users" SET "WebsiteUrl" = \'\' WHERE "Id" = {k}', "Users", "changed"),
    ("one deleted row", 'DELETE FROM "Votes" WHERE "Id" = {k}', "Votes", "missing"),
    ("one duplicated row",
     'INSERT INTO "Badges" ("Id", "Name", "UserId", "Date") OVERRIDING SYSTEM VALUE '
     'SELECT {k}, "Name", "UserId", "Date" '
     'FROM "Badges" WHERE "Id" = {k} - 1', "Badges", "extra"),
]  # fmt: skip

# a key for each flip: a row in the middle of the table that has what the flip needs
KEYS = {
    "Posts": 'SELECT "Id" FROM "Posts" ORDER BY "Id" OFFSET 1500 LIMIT 1',
    "Comments": 'SELECT "Id" FROM "Comments" ORDER BY "Id" OFFSET 1200 LIMIT 1',
    "Users": 'SELECT "Id" FROM "Users" WHERE "WebsiteUrl" IS NULL ORDER BY "Id" OFFSET 300 LIMIT 1',
    "Votes": 'SELECT "Id" FROM "Votes" ORDER BY "Id" OFFSET 4000 LIMIT 1',
    # every tenth key is a gap: the key after a present one that is missing
    "Badges": 'SELECT b."Id" + 1 FROM "Badges" b WHERE NOT EXISTS (SELECT 1 FROM "Badges" c '
    'WHERE c."Id" = b."Id" + 1) AND b."Id" > 200 ORDER BY b."Id" LIMIT 1',
}


@pytest.mark.parametrize("native", [True, False], ids=["native", "canonical"])
@pytest.mark.parametrize("flip", FLIPS, ids=[f[0] for f in FLIPS])
def test_a_flipped_value_fails_verify_then_repair_fixes_it(replica, flip, native):
    source, target = replica
    name, sql, table, kind = flip
    key = scalar(target, KEYS[table])
    options = VerifyOptions(
        chunk_rows=RANGE_ROWS, rows=True, native=native, checks=False, processes=not native
    )  # worker processes for client-side digests
    plan = build_plan(source, target, chunk_rows=RANGE_ROWS)
    assert verify_plan(plan, source, target, options).ok, "the replica starts clean"

    execute(target, sql.format(k=key))
    report = verify_plan(plan, source, target, options)

    assert not report.ok
    bad = [(t.name, r) for t in report.tables for r in t.mismatches]
    assert [t for t, _ in bad] == [table], name  # one range of the right table, nothing else
    mismatch = bad[0][1]
    assert mismatch.chunk.lo is None or mismatch.chunk.lo < key
    assert mismatch.chunk.hi is None or key <= mismatch.chunk.hi
    assert {"missing": mismatch.missing, "extra": mismatch.extra,
            "changed": mismatch.changed}[kind] == [(key,)]  # fmt: skip
    expected_method = "native" if native else "canonical"
    assert report.table(table).method == expected_method

    fixed = repair(plan, report, source, target, verify=options)
    assert fixed.ranges == 1
    assert fixed.after.ok
    assert verify_plan(plan, source, target, options).ok


def test_verify_command_exit_codes_and_reports(replica, tmp_path, capsys):
    source, target = replica
    args = ["verify", "--source", source.render_secret(), "--target", target.render_secret()]
    assert main([*args, "--json", str(tmp_path / "ok.json")]) == 0
    # PostgreSQL -> PostgreSQL of identical types: the servers digest (the table says so)
    assert re.search(r"│ Votes .* native ", capsys.readouterr().out)
    clean = json.loads((tmp_path / "ok.json").read_text())
    assert clean["ok"] and len(clean["tables"]) == 9
    assert {t["table"]: t["source_rows"] for t in clean["tables"]} == row_counts(SCALE)

    key = scalar(target, KEYS["Votes"])
    execute(target, f'DELETE FROM "Votes" WHERE "Id" = {key}')
    html, out = tmp_path / "bad.html", tmp_path / "bad.json"
    code = main([*args, "--rows", "--chunk-rows", "1000", "--html", str(html), "--json", str(out)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "MISMATCH" in printed and "Votes#" in printed and f"missing: {key}" in printed
    bad = json.loads(out.read_text())
    votes = next(t for t in bad["tables"] if t["table"] == "Votes")
    assert votes["mismatches"][0]["missing"] == [key]
    assert "Votes" in html.read_text() and "MISMATCH" in html.read_text()

    assert main([*args, "--repair", "--chunk-rows", "1000"]) == 0
    assert verify_database(source, target, VerifyOptions(checks=False)).ok


def test_copy_with_verify_flag(pg_server, replica):
    source, _ = replica
    gen = _fresh(pg_server, "sluice_vcopy")
    target = next(gen)
    try:
        args = ["copy", "--source", source.render_secret(), "--target", target.render_secret(),
                "--tables", "Users,Badges", "--verify"]  # fmt: skip
        assert main(args) == 0
    finally:
        next(gen, None)


@pytest.mark.parametrize("direction", ["mariadb->postgresql", "postgresql->mariadb"])
def test_cross_engine_replicas_verify_clean(pg_db, mysql_db, direction):
    pg_first = direction.startswith("postgresql")
    source, target = (pg_db, mysql_db) if pg_first else (mysql_db, pg_db)
    generate(source, SCALE / 2)
    assert copy_database(source, target, CopyOptions(chunk_rows=2_000)).ok
    options = VerifyOptions(chunk_rows=RANGE_ROWS, rows=True, processes=True)
    report = verify_database(source, target, options)
    assert report.ok, [(t.name, [r.to_dict() for r in t.mismatches]) for t in report.tables]
    assert {t.method for t in report.tables} == {"canonical"}
    assert all(t.checks for t in report.tables)  # data-quality checks ran on the replica

    # and the canonical path still sees one changed second across engines
    key = scalar(target, 'SELECT MIN("Id") FROM "Comments"'.replace('"', "`" if pg_first else '"'))
    q = "`" if pg_first else '"'
    stamp = ("DATE_ADD(`CreationDate`, INTERVAL 1 SECOND)" if pg_first
             else "\"CreationDate\" + interval '1 second'")  # fmt: skip
    execute(
        target, f"UPDATE {q}Comments{q} SET {q}CreationDate{q} = {stamp} WHERE {q}Id{q} = {key}"
    )
    options = VerifyOptions(chunk_rows=RANGE_ROWS, rows=True, processes=True)
    report = verify_database(source, target, options)
    assert [t.name for t in report.tables if not t.ok] == ["Comments"]
    assert report.table("Comments").mismatches[0].changed == [(key,)]


def test_drift_check_follows_the_configured_tolerance(replica):
    """A drift rule compares the target's count with the source's the ranges counted."""
    source, target = replica
    key = scalar(target, KEYS["Votes"])
    execute(target, f'DELETE FROM "Votes" WHERE "Id" = {key}')
    try:
        for tolerance, passed in ((0.0, False), (0.5, True)):
            rules = QualityRules.from_dict({"tables": {"Votes": {"drift_tolerance": tolerance}}})
            options = VerifyOptions(tables=["Votes"], quality=rules, chunk_rows=RANGE_ROWS)
            report = verify_database(source, target, options)
            drift = [c for c in report.table("Votes").checks if c.check == "row_count_drift"]
            assert len(drift) == 1 and drift[0].passed is passed
            assert drift[0].value == pytest.approx(1 / row_counts(SCALE)["Votes"])
            assert not report.ok  # the range differs either way
    finally:
        plan = build_plan(source, target, tables=["Votes"], chunk_rows=RANGE_ROWS)
        options = VerifyOptions(tables=["Votes"], chunk_rows=RANGE_ROWS, checks=False)
        assert repair(plan, verify_plan(plan, source, target, options), source, target).after.ok


def direct_endpoints(source, target):
    """The verify task's Endpoints over the URLs themselves instead of Airflow connection ids."""
    from dataclasses import dataclass

    from sluice.airflow import tasks

    @dataclass(frozen=True)
    class Direct(tasks.Endpoints):
        def source_url(self):
            return source

        def target_url(self):
            return target

    return Direct("src", "dst")


def test_airflow_verify_task_reports_and_fails_on_a_failing_check(replica, tmp_path, monkeypatch):
    """The DAGs' verify callable: reports written to a `file://` report URL (what a shared
    mount gives every worker), headline figures returned with the report's URL, and the latest
    read back as `sluice demo` reads it; an error-severity check (here a NULL in a required
    column) fails it, after the reports are written."""
    import os

    from sluice.airflow import tasks
    from sluice.airflow.reports import read_latest
    from sluice.core.errors import DataError

    source, target = replica
    monkeypatch.setenv("SLUICE_REPORT_URL", f"file://{tmp_path}")
    ends = direct_endpoints(source, target)
    names = tasks.table_list(build_plan(source, target, tables=["Users", "Badges"]).to_dict())
    headline = tasks.verify_replica(ends, names, "dag", "manual__2026-11-25T00:00:00+00:00")
    assert headline["ok"] and set(headline["tables"]) == {"Users", "Badges"}
    assert headline["tables"]["Badges"]["rows"] == row_counts(SCALE)["Badges"]
    assert headline["tables"]["Badges"]["checks_failed"] == 0
    run = "manual__2026-11-25T00_00_00_00_00"
    assert headline["report"] == f"file://{tmp_path}/dag/{run}.json"
    files = {f"{run}.json", f"{run}.html", "latest.json", "latest.html", "runs.json"}
    assert set(os.listdir(tmp_path / "dag")) == files
    (indexed,) = json.loads((tmp_path / "dag" / "runs.json").read_text(encoding="utf-8"))
    assert (indexed["run_id"], indexed["file"], indexed["ok"]) == (
        "manual__2026-11-25T00:00:00+00:00", run, True)  # fmt: skip
    assert indexed["tables"]["Badges"]["verdict"] == "MATCH"
    assert indexed["tables"]["Badges"]["target_rows"] == row_counts(SCALE)["Badges"]
    report, html = read_latest("dag", os.environ)
    assert report == json.loads((tmp_path / "dag" / f"{run}.json").read_text(encoding="utf-8"))
    assert html == f"file://{tmp_path}/dag/latest.html"
    assert report["ok"] and {t["table"] for t in report["tables"]} == {"Users", "Badges"}

    key = scalar(target, 'SELECT MIN("Id") FROM "Badges"')
    old = scalar(target, f'SELECT "Name" FROM "Badges" WHERE "Id" = {key}')
    execute(target, 'ALTER TABLE "Badges" ALTER COLUMN "Name" DROP NOT NULL')
    execute(target, f'UPDATE "Badges" SET "Name" = NULL WHERE "Id" = {key}')
    try:
        with pytest.raises(DataError, match=f"Badges; report file://{tmp_path}/dag/second.json"):
            tasks.verify_replica(ends, names, "dag", "second")
        report = read_latest("dag", os.environ)[0]
        assert report == json.loads((tmp_path / "dag" / "latest.json").read_text())
        badges = next(t for t in report["tables"] if t["table"] == "Badges")
        runs = json.loads((tmp_path / "dag" / "runs.json").read_text(encoding="utf-8"))
        assert [(r["run_id"], r["ok"]) for r in runs] == [(indexed["run_id"], True),
                                                          ("second", False)]  # fmt: skip
        assert runs[-1]["tables"]["Badges"]["verdict"] == "MISMATCH"  # a value changed, and a check
        failing = [c for c in badges["checks"] if not c["passed"]]
        assert [(c["check"], c["column"], c["value"]) for c in failing] == [("not_null", "Name", 1)]
    finally:
        execute(target, f'UPDATE "Badges" SET "Name" = \'{old}\' WHERE "Id" = {key}')
        execute(target, 'ALTER TABLE "Badges" ALTER COLUMN "Name" SET NOT NULL')


def test_airflow_verify_task_writes_to_any_fsspec_store(replica, monkeypatch):
    """Not only files: the in-process `memory://` store of fsspec, read back by the module
    and, independently, by fsspec itself. An Airflow connection id in the URL (the user part,
    as ObjectStoragePath reads it) is used but never shown in the headline (XCom)."""
    import uuid

    import fsspec

    from sluice.airflow import tasks
    from sluice.airflow.reports import read_latest

    source, target = replica
    bucket = f"sluice-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("SLUICE_REPORT_URL", f"memory://reports_conn@{bucket}/reports")
    ends = direct_endpoints(source, target)
    headline = tasks.verify_replica(ends, ["Tags"], "dag", "scheduled__1")
    assert (
        headline["ok"] and headline["report"] == f"memory://{bucket}/reports/dag/scheduled__1.json"
    )
    assert "reports_conn" not in json.dumps(headline)
    memory = fsspec.filesystem("memory")
    names = sorted(p.rsplit("/", 1)[1] for p in memory.ls(f"/{bucket}/reports/dag", detail=False))
    assert names == ["latest.html", "latest.json", "runs.json", "scheduled__1.html",
                     "scheduled__1.json"]  # fmt: skip
    stored = json.loads(memory.cat(f"/{bucket}/reports/dag/latest.json"))
    report, html = read_latest("dag", {"SLUICE_REPORT_URL": f"memory://{bucket}/reports"})
    assert report == stored and [t["table"] for t in report["tables"]] == ["Tags"]
    assert html == f"memory://{bucket}/reports/dag/latest.html"


def test_airflow_verify_task_keeps_report_url_credentials_unseen(replica, monkeypatch, caplog):
    """A report URL carrying a password or a signed token fails the task before any work, at
    once (no retries), and its secret is in no message, log record or traceback."""
    import logging
    from urllib.parse import quote

    from airflow.sdk.exceptions import AirflowFailException
    from tests.reliability.secrets import PASSWORD, exception_texts, found_in

    from sluice.airflow import tasks

    caplog.set_level(logging.DEBUG)
    source, target = replica
    secret = quote(PASSWORD, safe="")
    for url in (f"s3://AKIAEXAMPLE:{secret}@bucket/reports",
                f"file://user:{secret}@/tmp/reports",
                f"gcs://bucket/reports?X-Goog-Signature={secret}&X-Goog-Date=1"):  # fmt: skip
        monkeypatch.setenv("SLUICE_REPORT_URL", url)
        with pytest.raises(AirflowFailException) as caught:
            tasks.verify_replica(direct_endpoints(source, target), ["Tags"], "dag", "leak")
        assert "SLUICE_REPORT_URL" in str(caught.value) and "***" in str(caught.value)
        assert [t for t in exception_texts(caught.value) if found_in(t)] == []
    logged = [r.getMessage() for r in caplog.records]
    logged += [logging.Formatter().format(r) for r in caplog.records]
    assert [t for t in logged if found_in(t)] == []
