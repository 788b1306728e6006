"""Every `sluice` command, run with a recognisable password in its URLs, never shows it: not on
stdout or stderr (debug logging included), not in any file it writes (summaries, reports,
plans), not on success and not on failure (wrong database, unreachable port, refused login,
malformed URL, a copy failing mid-way, a verification that finds differences).

PostgreSQL here trusts 127.0.0.1, so it accepts any password: the secret really travels in the
URL that connects. On MariaDB a user is created with that very password."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from sluice.cli import build_parser
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from tests.conftest import _fresh, drop_database
from tests.reliability.secrets import (
    MALFORMED,
    PASSWORD,
    UNREACHABLE,
    files_under,
    found_in,
    with_password,
)

SLUICE = str(Path(sys.executable).with_name("sluice"))
SCALE = "0.002"
COMMANDS = sorted(next(a for a in build_parser()._actions if a.dest == "command").choices)


class Session:
    """Runs `sluice` commands in one folder and keeps everything they said."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.said: dict[str, str] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}

    def run(self, name: str, *args: str, expect: int = 0, env: dict | None = None) -> str:
        out = subprocess.run(
            [SLUICE, *args], capture_output=True, text=True, cwd=self.folder,
            env={**self.env, **(env or {})}, timeout=300,
        )  # fmt: skip
        text = out.stdout + out.stderr
        self.said[name] = text
        assert out.returncode == expect, f"{name}: exit {out.returncode}\n{text[-3000:]}"
        return text

    def leaks(self) -> dict[str, list[str]]:
        texts = {**self.said, **files_under(self.folder)}
        return {where: found_in(text) for where, text in texts.items() if found_in(text)}


@pytest.fixture
def pg_pair(pg_server):
    src, dst = _fresh(pg_server, "sluice_leak_src"), _fresh(pg_server, "sluice_leak_dst")
    yield next(src), next(dst)
    next(src, None)
    next(dst, None)


def test_every_command_keeps_the_password_to_itself(pg_pair, tmp_path):
    source, target = pg_pair
    s = Session(tmp_path)
    src, dst = with_password(source), with_password(target)
    ends = ["--source", src, "--target", dst]
    closed = with_password(DbUrl(source.url.set(port=1)))

    s.run("help", "--help")
    s.run("version", "--version")
    for command in COMMANDS:
        s.run(f"{command} --help", command, "--help")
    s.run("embedded status", "embedded", "status")

    s.run("generate", "generate", "stackoverflow", "--scale", SCALE, "--target", src)
    assert "***" in s.run("plan", "plan", *ends)
    s.run("plan --json", "plan", "--json", *ends)
    s.run("copy", "copy", *ends, "--json", "copy.json", "--chunk-rows", "700")
    # the debug log, URLs from the environment, verification and every report format
    s.run("-v copy --verify", "-v", "copy", "--target", dst, "--workers", "2",
          "--chunk-rows", "500", "--verify", "--report", "copy-verify.html",
          "--report", "copy-verify.json", "--report", "copy-verify.md",
          env={"SLUICE_SOURCE_URL": src})  # fmt: skip
    s.run("verify", "verify", *ends, "--json", "v.json", "--html", "v.html",
          "--report", "v.md")  # fmt: skip

    # a replica that differs: mismatches named by key, then repaired
    conn = get_dialect("postgresql").connect(target)
    conn.execute('DELETE FROM "Posts" WHERE "Id" % 7 = 0')
    conn.execute('UPDATE "Users" SET "DisplayName" = \'changed\' WHERE "Id" % 5 = 0')
    conn.commit()
    conn.close()
    assert "MISMATCH" in s.run("verify --rows", "-v", "verify", *ends, "--rows",
                               "--json", "bad.json", "--html", "bad.html", expect=1)  # fmt: skip
    s.run("verify --repair", "verify", *ends, "--repair", "--report", "repaired.json")
    conn = get_dialect("postgresql").connect(source)
    conn.execute('UPDATE "Users" SET "Reputation" = "Reputation" + 1 WHERE "Id" % 3 = 0')
    conn.execute('DELETE FROM "Votes" WHERE "Id" % 11 = 0')
    conn.commit()
    conn.close()
    said = s.run("-v sync", "-v", "sync", *ends, "--json", "sync.json")
    assert "Votes" in said
    s.run("sync unreachable source", "sync", "--source", closed, "--target", dst, expect=1)

    # errors: each one names what went wrong, with the password masked
    nowhere = with_password(source, database="sluice_no_such_database")
    said = s.run("wrong database", "copy", "--source", nowhere, "--target", dst, expect=1)
    assert "sluice_no_such_database" in said and "***" in said
    for cmd in ("plan", "copy", "verify"):
        said = s.run(f"{cmd} unreachable source", cmd, "--source", closed, "--target", dst,
                     expect=1)  # fmt: skip
        assert any(reason in said for reason in UNREACHABLE), said
    s.run("copy unreachable target", "copy", "--source", src, "--target", closed, expect=1)
    s.run("generate unreachable", "generate", "stackoverflow", "--target", closed, expect=1)
    s.run("import-dump unreachable", "import-dump", str(tmp_path / "none"), "--target", closed,
          expect=1)  # fmt: skip
    for other in ("mysql+pymysql", "mssql+pymssql"):
        url = with_password(DbUrl.parse(f"{other}://sa@127.0.0.1:1/db"))
        s.run(f"{other} unreachable", "copy", "--source", src, "--target", url, expect=1)
    assert "not a database URL" in s.run("malformed URL", "plan", "--source", MALFORMED,
                                         "--target", dst, expect=2)  # fmt: skip
    for raw in (PASSWORD, PASSWORD.replace("/", "")):  # '@' not percent-encoded
        raw_url = f"postgresql://postgres:{raw}@127.0.0.1:5432/db"
        said = s.run(f"raw {raw}", "plan", "--source", raw_url, "--target", dst, expect=2)
        assert "%40" in said
    unknown = src.replace("postgresql://", "nosuchengine://")
    s.run("unknown engine", "copy", "--source", unknown, "--target", dst, expect=2)
    s.run("same database", "copy", "--source", src, "--target", src, expect=2)
    s.run("unknown table", "copy", *ends, "--tables", "NoSuchTable", expect=2)
    s.run("verify unknown table", "verify", *ends, "--tables", "NoSuchTable", expect=2)

    # the password as a libpq query option instead of in the URL's userinfo
    def with_option(url, option: str) -> str:  # after the URL's own options (?host=...)
        text = str(url)
        return f"{text}{'&' if '?' in text else '?'}{option}={quote(PASSWORD, safe='')}"

    in_query = with_option(source, "password")
    assert "password=***" in s.run("plan, ?password=", "plan", "--source", in_query,
                                   "--target", dst)  # fmt: skip
    closed_query = with_option(DbUrl(source.url.set(port=1)), "sslpassword")
    s.run("copy, ?sslpassword=, unreachable", "copy", "--source", closed_query, "--target", dst,
          expect=1)  # fmt: skip
    malformed_query = f"{MALFORMED}?password={quote(PASSWORD, safe='')}"
    s.run("malformed, ?password=", "copy", "--source", malformed_query, "--target", dst,
          expect=2)  # fmt: skip

    assert len(s.said) == 29 + len(COMMANDS) + 3
    assert len(files_under(tmp_path)) >= 10  # summaries, reports in three formats, plans
    assert s.leaks() == {}


@pytest.fixture
def mariadb_user(mysql_server):
    """A MariaDB user whose password is PASSWORD, allowed one fresh database; dropped after."""
    name = f"sluice_pw_{uuid.uuid4().hex[:8]}"
    database = mysql_server.with_database(f"sluice_leak_{uuid.uuid4().hex[:8]}")
    d = get_dialect("mysql")
    d.ensure_database(database)
    conn = d.connect(mysql_server.without_database(), autocommit=True)
    cur = conn.cursor()
    for host in ("%", "localhost"):
        cur.execute(f"CREATE USER '{name}'@'{host}' IDENTIFIED BY {conn.escape(PASSWORD)}")
        cur.execute(f"GRANT ALL PRIVILEGES ON {d.quote(database.database)}.* "
                    f"TO '{name}'@'{host}'")  # fmt: skip
    try:
        yield database, name
    finally:
        for host in ("%", "localhost"):
            cur.execute(f"DROP USER IF EXISTS '{name}'@'{host}'")
        conn.close()
        drop_database(database)


def test_mariadb_login_failures_and_a_copy_failing_midway(pg_pair, mariadb_user, tmp_path):
    """A real login with the password on MariaDB: copies both ways, a refused login, and a copy
    that fails mid-way (one table published, one not) all keep it masked."""
    (source, pg_target), (database, user) = pg_pair, mariadb_user
    s = Session(tmp_path)
    src, pg_dst = with_password(source), with_password(pg_target)
    maria = with_password(database, user=user)
    s.run("generate", "generate", "stackoverflow", "--scale", SCALE, "--target", src)
    s.run("copy to mariadb", "-v", "copy", "--source", src, "--target", maria,
          "--chunk-rows", "600", "--verify", "--report", "to-maria.html")  # fmt: skip
    s.run("copy from mariadb", "-v", "copy", "--source", maria, "--target", pg_dst,
          "--json", "from-maria.json")  # fmt: skip
    s.run("verify mariadb", "verify", "--source", maria, "--target", pg_dst, "--rows",
          "--json", "v.json")  # fmt: skip
    refused = maria.replace(user, user + "_nobody")
    said = s.run("refused login", "plan", "--source", src, "--target", refused, expect=1)
    assert "Access denied" in said and "***" in said

    # a copy failing mid-way: the value PostgreSQL calls infinity has no MariaDB DATETIME
    conn = get_dialect("postgresql").connect(source)
    conn.execute('CREATE TABLE "Events" ("Id" int PRIMARY KEY, "At" timestamp)')
    conn.execute('INSERT INTO "Events" SELECT g, now() FROM generate_series(1, 3000) g')
    conn.execute('UPDATE "Events" SET "At" = \'infinity\' WHERE "Id" = 2500')
    conn.commit()
    conn.close()
    said = s.run("copy failing mid-way", "-v", "copy", "--source", src, "--target", maria,
                 "--chunk-rows", "500", "--json", "failed.json", expect=1)  # fmt: skip
    assert "not published" in said and "Events#" in said

    assert len(s.said) == 6
    assert s.leaks() == {}
