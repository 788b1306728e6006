"""A job file through `sluice copy/verify/plan --config` against real PostgreSQL, and verify
finding what differs in every schema a selection lands in (issue 24).

The source is test_schemas' (public.a, sales.a, sales.orders, "Sales"."Mixed"); the job maps
sales -> archive and leaves "Sales" out, its password comes from the environment."""

from __future__ import annotations

import json
from pathlib import Path

from tests.independent import execute
from tests.integration import test_schemas
from tests.integration.test_schemas import counts

from sluice.cli.main import main
from sluice.core.urls import DbUrl

SECRET = "t24-job-pw-0451"
source = test_schemas.source  # the same module-scoped fixture: its source database


def with_env_password(url: DbUrl) -> str:
    """The URL as a job file writes it: the password a ${T24_JOB_PW} reference."""
    u = url.url.set(password="PLACEHOLDER")
    return u.render_as_string(hide_password=False).replace("PLACEHOLDER", "${T24_JOB_PW}")


def job(tmp_path: Path, source: DbUrl, target: DbUrl, extra: str = "") -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(
        f"source: {with_env_password(source)}\n"
        f"target: {with_env_password(target)}\n"
        "exclude_schemas: [Sales]\n"
        "schema_map: {sales: archive}\n"
        "workers: 2\n"
        "chunk_rows: 300\n"
        "lock_timeout: 10\n" + extra,
        encoding="utf-8",
    )
    return path


def sluice(capsys, monkeypatch, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("T24_JOB_PW", SECRET)  # trust auth: any password is accepted
    for name in ("SLUICE_SOURCE_URL", "SLUICE_TARGET_URL"):
        monkeypatch.delenv(name, raising=False)
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    return code, out + err


def report(capsys, monkeypatch, config: Path, tmp_path: Path, *more: str) -> dict:
    path = tmp_path / "report.json"
    code, out = sluice(capsys, monkeypatch, "verify", "--config", str(config), "--no-checks",
                       "--json", str(path), *more)  # fmt: skip
    data = json.loads(path.read_text())
    assert (code == 0) == data["ok"], out
    return data


def test_job_file_copies_and_verifies_the_selection(capsys, monkeypatch, tmp_path, source,
                                                    pg_db):  # fmt: skip
    config = job(tmp_path, source, pg_db)
    code, out = sluice(capsys, monkeypatch, "copy", "--config", str(config))
    assert code == 0, out
    assert counts(pg_db) == {"a": 1, "archive.a": 2, "archive.orders": 1000}
    assert "skipped Sales.Mixed: excluded by --exclude-schemas" in out
    # the same file verifies (lock_timeout, copy's, is left out with a note)
    code, out = sluice(capsys, monkeypatch, "verify", "--config", str(config))
    assert code == 0 and "verify: MATCH" in out, out
    # a flag overrides the file: the plan of another mapping
    code, out = sluice(capsys, monkeypatch, "plan", "--config", str(config), "--schema-map",
                       "sales=elsewhere", "--json")  # fmt: skip
    assert code == 0, out
    plan = json.loads(out[out.index("{") :])
    assert {t["target_schema"] for t in plan["tables"]} == {None, "elsewhere"}
    assert SECRET not in json.dumps(plan)


def test_verify_finds_what_differs_in_a_mapped_schema(capsys, monkeypatch, tmp_path, source,
                                                      pg_db):  # fmt: skip
    config = job(tmp_path, source, pg_db)
    assert sluice(capsys, monkeypatch, "copy", "--config", str(config))[0] == 0
    # a row deleted from a table in the mapped schema
    execute(pg_db, "DELETE FROM archive.orders WHERE id = 10")
    code, out = sluice(capsys, monkeypatch, "verify", "--config", str(config), "--no-checks")
    assert code == 1 and "sales.orders" in out and "MISMATCH" in out, out
    execute(pg_db, "INSERT INTO archive.orders OVERRIDING SYSTEM VALUE VALUES (10, 1, 2.5)")
    # a table gone from the mapped schema
    execute(pg_db, "ALTER TABLE archive.a RENAME TO a_gone")
    data = report(capsys, monkeypatch, config, tmp_path)
    assert data["ok"] is False and data["extra_tables"] == ["archive.a_gone"]
    gone = next(t for t in data["tables"] if t["table"] == "sales.a")
    assert gone["error"] == "sales.a: missing in the target"
    execute(pg_db, "ALTER TABLE archive.a_gone RENAME TO a")
    assert report(capsys, monkeypatch, config, tmp_path)["ok"] is True
    # a table the source lacks, in the mapped schema where no planned table lands: every
    # table of sales left out by name, archive is still where the selection puts sales
    execute(pg_db, "CREATE TABLE archive.stale (id int PRIMARY KEY)")
    try:
        data = report(capsys, monkeypatch, config, tmp_path, "--exclude-tables", "sales.*")
        assert data["ok"] is False and data["extra_tables"] == ["archive.stale"], data
        assert {t["table"] for t in data["tables"]} == {"a"}
    finally:
        execute(pg_db, "DROP TABLE archive.stale")
    # a table dropped from the mapped schema: missing, counted on the source, exit 1
    execute(pg_db, "DROP TABLE archive.orders")
    data = report(capsys, monkeypatch, config, tmp_path)  # exit 1: `report` checks the code
    assert data["ok"] is False and data["extra_tables"] == []
    gone = next(t for t in data["tables"] if t["table"] == "sales.orders")
    assert (gone["error"], gone["source_rows"]) == ("sales.orders: missing in the target", 1000)


def test_verify_finds_extra_tables_in_a_source_schema_emptied_since_the_copy(
    capsys, monkeypatch, tmp_path, pg_server, pg_db
):
    """A source schema whose every table was dropped after the copy: its replica's tables
    are extra (no planned table lands there any more)."""
    from tests.conftest import _fresh

    gen = _fresh(pg_server, "t24_job_src_empty")
    src = next(gen)
    try:
        execute(
            src,
            "CREATE TABLE public.t (id int PRIMARY KEY)",
            "CREATE SCHEMA hr",
            "CREATE TABLE hr.people (id int PRIMARY KEY)",
            "INSERT INTO hr.people VALUES (1), (2)",
        )
        path = tmp_path / "job.yaml"
        path.write_text(f"source: {src.render_secret()}\ntarget: {pg_db.render_secret()}\n")
        assert sluice(capsys, monkeypatch, "copy", "--config", str(path))[0] == 0
        assert counts(pg_db) == {"t": 0, "hr.people": 2}
        execute(src, "DROP TABLE hr.people")
        data = report(capsys, monkeypatch, path, tmp_path)
        assert data["ok"] is False and data["extra_tables"] == ["hr.people"], data
    finally:
        next(gen, None)
