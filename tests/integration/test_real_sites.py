"""Two real Stack Exchange sites (coffee, beer: ../shared/data/stackexchange) through the whole
pipeline, on every engine: `sluice import-dump` into PostgreSQL (the service and the embedded 18),
MariaDB and SQLite stores exactly what the XML files hold; `sluice copy --verify` between engines
says MATCH and the replica's rows, read by the drivers themselves, equal the source's; the
StackOverflow2010 quality rules report the real orphans (votes and post links of deleted posts)
as warnings with the counts SQL finds; and `sluice sync` after real-shaped changes (new posts,
edited bodies, deleted votes) moves exactly those rows and leaves a replica that verifies equal.

Runs whenever the data is present (skips only when it is absent); the MariaDB parts skip when
SLUICE_TEST_MYSQL_URL is unset, like the rest of the suite."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import _fresh
from tests.independent import cursor, rows
from tests.realdata import (
    BEER,
    COFFEE,
    ENV,
    FILES,
    SITE_ROWS,
    db_rows,
    digest,
    file_rows,
    first_difference,
    quote,
    stackexchange_root,
)

from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import FOREIGN_KEYS

ROOT = stackexchange_root()
pytestmark = pytest.mark.skipif(
    ROOT is None,
    reason=f"no Stack Exchange data: ${ENV} unset and no shared/data/stackexchange beside the "
    "project root",
)

# Orphans of the real sites (rows whose reference has no row: votes and links of deleted posts,
# which the dumps do not export); every other logical reference of StackOverflow2010 resolves,
# the Community user -1 included.
ORPHANS = {
    COFFEE: {("PostLinks", "PostId"): 5, ("Votes", "PostId"): 88},
    BEER: {("PostLinks", "PostId"): 1, ("Votes", "PostId"): 802},
}
# The fixture holding each engine's server (sqlite has none: a file in tmp_path).
SERVERS = {"service": "pg_server", "embedded": "embedded_logical_pg", "mariadb": "mysql_server"}


@dataclass(frozen=True)
class Site:
    name: str
    folder: Path
    rows: dict[str, list[tuple]]  # every table's rows as the XML files hold them, normalised


def sluice(*args: str) -> subprocess.CompletedProcess:
    """The CLI in a child process, as a user runs it; it must exit 0 (warnings included)."""
    cmd = [sys.executable, "-m", "sluice.cli", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    told = f"{out.stdout[-3000:]}{out.stderr[-3000:]}"
    assert out.returncode == 0, f"{args[0]}: exit {out.returncode}\n{told}"
    return out


def ends(source: DbUrl, target: DbUrl) -> list[str]:
    return ["--source", source.render_secret(), "--target", target.render_secret()]


@pytest.fixture(scope="module", params=[COFFEE, BEER], ids=["coffee", "beer"])
def site(request) -> Site:
    folder = ROOT / request.param
    return Site(request.param, folder, {t: file_rows(folder, t) for t in FILES})


def fresh(request, engine: str, prefix: str, tmp: Path) -> DbUrl:
    """An empty database on `engine`, dropped when `request`'s scope ends."""
    if engine == "sqlite":
        return DbUrl.parse(f"sqlite:///{tmp / f'{prefix}.db'}")
    made = _fresh(request.getfixturevalue(SERVERS[engine]), prefix)
    url = next(made)
    request.addfinalizer(lambda: next(made, None))
    return url


def imported(request, site: Site, engine: str, tmp_path_factory) -> DbUrl:
    url = fresh(request, engine, "sluice_real", tmp_path_factory.mktemp(engine))
    sluice("import-dump", str(site.folder), "--target", url.render_secret())
    return url


# One import per site and engine for the whole module.
@pytest.fixture(scope="module")
def service_src(request, site, tmp_path_factory) -> DbUrl:
    return imported(request, site, "service", tmp_path_factory)


@pytest.fixture(scope="module")
def embedded_src(request, site, tmp_path_factory) -> DbUrl:
    return imported(request, site, "embedded", tmp_path_factory)


@pytest.fixture(scope="module")
def mariadb_src(request, site, tmp_path_factory) -> DbUrl:
    return imported(request, site, "mariadb", tmp_path_factory)


@pytest.fixture(scope="module")
def sqlite_src(request, site, tmp_path_factory) -> DbUrl:
    return imported(request, site, "sqlite", tmp_path_factory)


def engines(cases: list) -> list:
    """Parameters for engines or (source, target) pairs, marked `mysql` where MariaDB takes part
    (they skip without SLUICE_TEST_MYSQL_URL, like the rest of the suite's)."""
    out = []
    for case in cases:
        names = case if isinstance(case, tuple) else (case,)
        marks = [pytest.mark.mysql] if "mariadb" in names else []
        out.append(pytest.param(*names, marks=marks, id="-".join(names)))
    return out


def assert_same_rows(expected: dict[str, list[tuple]], url: DbUrl, what: str) -> None:
    for table, want in expected.items():
        got = db_rows(url, table)
        assert digest(got) == digest(want), f"{what}, {table}: {first_difference(want, got)}"


# --- import ------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", engines(["service", "embedded", "mariadb", "sqlite"]))
def test_import_stores_what_the_files_hold(request, site, engine):
    url = request.getfixturevalue(f"{engine}_src")
    assert sum(map(len, site.rows.values())) == SITE_ROWS[site.name]
    assert_same_rows(site.rows, url, f"{site.name} imported into {engine}")
    # attributes present but empty stay empty strings, absent ones NULL
    q = lambda name: quote(url, name)  # noqa: E731
    empty = rows(url, f"SELECT COUNT(*) FROM {q('Posts')} WHERE {q('Body')} = ''")[0][0]
    assert empty == sum(r[3] == "" for r in site.rows["Posts"]) > 0
    community = f"SELECT {q('DisplayName')} FROM {q('Users')} WHERE {q('Id')} = -1"
    assert rows(url, community) == [("Community",)]
    assert rows(url, f"SELECT COUNT(*) FROM {q('VoteTypes')}") == [(15,)]


# --- copy between engines ----------------------------------------------------------------------

PAIRS = [
    ("service", "service"),  # PostgreSQL -> PostgreSQL: the raw COPY path
    ("service", "mariadb"),
    ("mariadb", "service"),
    ("service", "sqlite"),
    ("sqlite", "service"),
    ("embedded", "service"),  # PostgreSQL 18 -> 15
]


@pytest.mark.parametrize(("src", "dst"), engines(PAIRS))
def test_copy_between_engines(request, site, src, dst, tmp_path):
    source = request.getfixturevalue(f"{src}_src")
    target = fresh(request, dst, "sluice_replica", tmp_path)
    report = tmp_path / "verify.json"
    out = sluice("copy", *ends(source, target), "--verify", "--report", str(report))
    assert "verify: MATCH" in out.stdout
    for table in FILES:
        want, got = db_rows(source, table), db_rows(target, table)
        assert digest(got) == digest(want), f"{src} -> {dst}, {table}: " + first_difference(
            want, got
        )
    assert_quality(json.loads(report.read_text()), target, site)


def orphans_by_sql(url: DbUrl) -> dict[tuple[str, str], int]:
    """Rows per logical reference whose value is set and matches no row: plain SQL, each engine."""
    q = lambda name: quote(url, name)  # noqa: E731
    found = {}
    for fk in FOREIGN_KEYS:
        (col,) = fk.columns
        sql = (
            f"SELECT COUNT(*) FROM {q(fk.table)} t WHERE t.{q(col)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {q(fk.ref_table)} r WHERE r.{q('Id')} = t.{q(col)})"
        )
        n = rows(url, sql)[0][0]
        if n:
            found[(fk.table, col)] = n
    return found


def assert_quality(report: dict, target: DbUrl, site: Site) -> None:
    """The verify report's failing checks are exactly the orphans SQL counts on the replica,
    each a warning; every other check passed."""
    checks = [c for t in report["tables"] for c in t["checks"]]
    failing = [c for c in checks if not c["passed"]]
    assert all(c["severity"] == "warning" and c["check"] == "orphans" for c in failing), failing
    reported = {(c["table"], c["column"]): int(c["value"]) for c in failing}
    assert reported == orphans_by_sql(target) == ORPHANS[site.name]
    assert len(checks) > len(failing) > 0


def test_real_orphans_are_warnings(site, service_src, tmp_path):
    """`sluice verify` of two independent imports (service, SQLite): equal, and the orphans
    SQL finds in the files' own data are reported as warnings (exit code 0)."""
    sqlite = DbUrl.parse(f"sqlite:///{tmp_path / 'again.db'}")
    sluice("import-dump", str(site.folder), "--target", sqlite.render_secret())
    report = tmp_path / "verify.json"
    out = sluice("verify", *ends(service_src, sqlite), "--json", str(report))
    assert "verify: MATCH" in out.stdout
    for (table, column), n in ORPHANS[site.name].items():
        assert f"check warning: orphans {table}.{column}: {n:,} {table} row" in out.stdout
    assert orphans_by_sql(service_src) == ORPHANS[site.name]
    assert_quality(json.loads(report.read_text()), sqlite, site)


# --- sync after real-shaped changes ------------------------------------------------------------

SYNC_PAIRS = [("service", "mariadb"), ("mariadb", "embedded"), ("sqlite", "service")]
POST_COLUMNS = ("AcceptedAnswerId", "AnswerCount", "Body", "ClosedDate", "CommentCount",
                "CommunityOwnedDate", "CreationDate", "FavoriteCount", "LastActivityDate",
                "LastEditDate", "LastEditorDisplayName", "LastEditorUserId", "OwnerUserId",
                "ParentId", "PostTypeId", "Score", "Tags", "Title", "ViewCount")  # fmt: skip
EDIT = "\n<p><strong>Edit:</strong> same with a lighter roast \u2615 \U0001f37a, caf\u00e9 too.</p>"
# (inserted, updated, deleted) per table that `change_source` makes
CHANGED = {"Posts": (2, 4, 0), "PostHistory": (8, 0, 0), "Votes": (2, 0, 5)}


class Source:
    """Statements on a source through its own driver, `%s` parameters on every engine."""

    def __init__(self, url: DbUrl) -> None:
        self.url = url

    def q(self, name: str) -> str:
        return quote(self.url, name)

    def run(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.url.engine == "sqlite":  # written as the column's other values are
            sql = sql.replace("%s", "?")
            params = tuple(_sqlite_text(v) for v in params)
        if sql.startswith("SELECT"):
            return rows(self.url, sql, params)
        with cursor(self.url) as cur:
            cur.execute(sql, params)
        return []

    def insert(self, table: str, values: dict) -> int:
        """A row as the application adds one (its Id from the identity); returns the Id."""
        cols = ", ".join(self.q(c) for c in values)
        marks = ", ".join(["%s"] * len(values))
        self.run(f"INSERT INTO {self.q(table)} ({cols}) VALUES ({marks})", tuple(values.values()))
        return self.run(f"SELECT MAX({self.q('Id')}) FROM {self.q(table)}")[0][0]


def _sqlite_text(value):
    return value.isoformat(" ", "milliseconds") if isinstance(value, dt.datetime) else value


def _when(value) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def change_source(url: DbUrl) -> None:
    """What a day on the site does: a question and its answer posted (copies of real ones with
    fresh dates, with their history rows and two upvotes), three bodies edited and one title's
    case corrected (with history rows), five votes retracted (two of them on posts the dump left
    out). SQLite's datetimes are written as its applications often do: '2016-12-12 11:00:00.000'."""
    s = Source(url)
    q, ids = s.q, lambda sql: [r[0] for r in s.run(sql)]
    cols = ", ".join(q(c) for c in ("Id", *POST_COLUMNS))
    newest = _when(s.run(f"SELECT MAX({q('LastActivityDate')}) FROM {q('Posts')}")[0][0])
    day = newest.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    asked, answered, edited = (day + dt.timedelta(hours=h) for h in (9, 10, 11))

    def post(kind: int) -> dict:
        sql = (f"SELECT {cols} FROM {q('Posts')} WHERE {q('Id')} = (SELECT MAX({q('Id')}) FROM "
               f"{q('Posts')} WHERE {q('PostTypeId')} = {kind})")  # fmt: skip
        return dict(zip(("Id", *POST_COLUMNS), s.run(sql)[0]))

    def history(post_id: int, kind: int, user, text, when) -> None:
        s.insert("PostHistory", {"PostHistoryTypeId": kind, "PostId": post_id,
                                 "RevisionGUID": str(uuid.uuid4()), "CreationDate": when,
                                 "UserId": user, "Text": text})  # fmt: skip

    question, answer = post(1), post(2)
    fresh_q = {**question, "CreationDate": asked, "LastActivityDate": answered, "Score": 0,
               "ViewCount": 3, "AnswerCount": 1, "CommentCount": 0, "FavoriteCount": None,
               "AcceptedAnswerId": None, "ClosedDate": None, "LastEditDate": None,
               "LastEditorUserId": None, "LastEditorDisplayName": None,
               "CommunityOwnedDate": None}  # fmt: skip
    del fresh_q["Id"]
    qid = s.insert("Posts", fresh_q)
    fresh_a = {**fresh_q, "Body": answer["Body"], "PostTypeId": 2, "ParentId": qid,
               "Title": None, "Tags": None, "ViewCount": 0, "AnswerCount": None,
               "CreationDate": answered, "OwnerUserId": answer["OwnerUserId"]}  # fmt: skip
    aid = s.insert("Posts", fresh_a)
    for kind, text in ((1, question["Title"]), (2, question["Body"]), (3, question["Tags"])):
        history(qid, kind, question["OwnerUserId"], text, asked)
    history(aid, 2, answer["OwnerUserId"], answer["Body"], answered)
    for post_id in (qid, aid):
        s.insert("Votes", {"PostId": post_id, "VoteTypeId": 2, "CreationDate": day})
    # three bodies edited: an edit sets LastEditDate and LastActivityDate, history type 5
    bodies = ids(f"SELECT {q('Id')} FROM {q('Posts')} WHERE {q('Body')} <> '' "
                 f"ORDER BY {q('Id')} LIMIT 3")  # fmt: skip
    for pid in bodies:
        (body, owner), = s.run(f"SELECT {q('Body')}, {q('OwnerUserId')} FROM {q('Posts')} "
                                f"WHERE {q('Id')} = %s", (pid,))  # fmt: skip
        editor = owner if owner is not None else -1
        s.run(f"UPDATE {q('Posts')} SET {q('Body')} = %s, {q('LastEditDate')} = %s, "
              f"{q('LastActivityDate')} = %s, {q('LastEditorUserId')} = %s WHERE {q('Id')} = %s",
              (body + EDIT, edited, edited, editor, pid))  # fmt: skip
        history(pid, 5, editor, body + EDIT, edited)
    # a title whose case only is corrected (a binary collation must see it change)
    (tid, title), = s.run(f"SELECT {q('Id')}, {q('Title')} FROM {q('Posts')} WHERE "
                          f"{q('PostTypeId')} = 1 AND {q('Id')} > {max(bodies)} "
                          f"ORDER BY {q('Id')} LIMIT 1")  # fmt: skip
    assert title.swapcase() != title
    s.run(f"UPDATE {q('Posts')} SET {q('Title')} = %s, {q('LastEditDate')} = %s, "
          f"{q('LastActivityDate')} = %s WHERE {q('Id')} = %s",
          (title.swapcase(), edited, edited, tid))  # fmt: skip
    history(tid, 4, -1, title.swapcase(), edited)
    # five votes retracted: three upvotes, and two votes on posts the dump left out
    gone = ids(f"SELECT {q('Id')} FROM {q('Votes')} WHERE {q('VoteTypeId')} = 2 "
               f"ORDER BY {q('Id')} LIMIT 3") + ids(
        f"SELECT {q('Id')} FROM {q('Votes')} v WHERE NOT EXISTS (SELECT 1 FROM {q('Posts')} p "
        f"WHERE p.{q('Id')} = v.{q('PostId')}) ORDER BY {q('Id')} LIMIT 2")  # fmt: skip
    assert len(set(gone)) == 5
    marks = ", ".join(["%s"] * len(gone))
    s.run(f"DELETE FROM {q('Votes')} WHERE {q('Id')} IN ({marks})", tuple(gone))


@pytest.mark.parametrize(("src", "dst"), engines(SYNC_PAIRS))
def test_sync_after_real_changes(request, site, src, dst, tmp_path):
    source = fresh(request, src, "sluice_syncsrc", tmp_path)
    sluice("import-dump", str(site.folder), "--target", source.render_secret())
    replica = fresh(request, dst, "sluice_syncdst", tmp_path)
    sluice("copy", *ends(source, replica))
    change_source(source)
    summary = tmp_path / "sync.json"
    sluice("sync", *ends(source, replica), "--json", str(summary))
    moved = json.loads(summary.read_text())["tables"]
    counts = {t: (m["inserted"], m["updated"], m["deleted"]) for t, m in moved.items()}
    assert counts == {t: CHANGED.get(t, (0, 0, 0)) for t in counts}
    assert set(counts) == set(FILES) | {"VoteTypes"}
    out = sluice("verify", *ends(source, replica))
    assert "verify: MATCH" in out.stdout
    for table in FILES:
        want, got = db_rows(source, table), db_rows(replica, table)
        assert digest(got) == digest(want), f"{src} -> {dst}, {table}: " + first_difference(
            want, got
        )
    again = tmp_path / "again.json"
    sluice("sync", *ends(source, replica), "--json", str(again))
    assert json.loads(again.read_text())["moved"] == 0
