"""The real Stack Exchange sites in ../shared/data (beside the project root), and the evidence a
test holds an imported or copied database to: every row of a table, read from the XML file itself
(ElementTree) or from a database (the drivers themselves, tests.independent), normalised into one
engine-neutral form by the column's kind, so rows from PostgreSQL, MariaDB, SQLite and the files
compare equal exactly when the values are equal.

    root = stackexchange_root()          # None when the data is absent
    assert db_rows(url, "Posts") == file_rows(root / COFFEE, "Posts")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from sluice.core.types import Kind
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import TABLES
from sluice.datasets.stackoverflow.sources import DUMP_FILES
from tests.independent import rows

ENV = "SLUICE_STACKEXCHANGE_DATA"
COFFEE = "coffee.stackexchange.com"
BEER = "beer.stackexchange.com"
# Rows in each site's eight XML files, as /work/shared/data/stackexchange/README.md lists them.
SITE_ROWS = {COFFEE: 8_225, BEER: 29_602}
FILES = DUMP_FILES  # each table's XML file: the dump format's names
# NOT NULL counters the dumps leave out where there is nothing to count: StackOverflow2010
# stores 0 (answers have no ViewCount, some users no UpVotes, unused tags no Count).
ABSENT_IS_ZERO = {("Posts", "ViewCount"), ("Users", "UpVotes"), ("Users", "DownVotes"),
                  ("Users", "Views"), ("Tags", "Count")}  # fmt: skip


def stackexchange_root(repo: Path | None = None) -> Path | None:
    """The folder holding the site folders: $SLUICE_STACKEXCHANGE_DATA when set (an error when it
    is no folder: a wrong setting must not turn into skipped tests), else shared/data/stackexchange
    beside the project root (for a git worktree, beside the main checkout too); None if absent."""
    named = os.environ.get(ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{ENV}={named}: no such folder")
        return path
    repo = repo or Path(__file__).resolve().parents[1]
    for root in (repo, _main_checkout(repo)):
        if root is not None:
            path = root.parent / "shared" / "data" / "stackexchange"
            if path.is_dir():
                return path
    return None


def _main_checkout(repo: Path) -> Path | None:
    """A worktree's .git is a file `gitdir: <main>/.git/worktrees/<name>`: <main>, else None."""
    git = repo / ".git"
    if not git.is_file():
        return None
    text = git.read_text(encoding="utf-8").strip()
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text.removeprefix("gitdir:").strip())
    return gitdir.parents[2] if gitdir.parent.name == "worktrees" else None


def normalise(kind: Kind, value: Any) -> Any:
    """One form per value whatever produced it: datetimes as text to the millisecond (SQLite
    stores text, the others datetime objects), GUIDs as lower-case text, booleans as 0/1
    (MariaDB's TINYINT(1) reads back as an integer), integers as int, text as it is."""
    if value is None:
        return None
    if kind is Kind.DATETIME:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.isoformat(sep=" ", timespec="milliseconds")
    if kind is Kind.UUID:
        return str(uuid.UUID(str(value)))
    if kind is Kind.BOOLEAN:
        return int(value) if not isinstance(value, str) else int(value.lower() == "true")
    if kind is Kind.INTEGER:
        return int(value)
    return value


def file_rows(site: Path, table: str) -> list[tuple]:
    """Every `<row>` of the table's XML file, normalised, in Id order."""
    cols = TABLES[table].columns
    out = []
    for _, elem in ElementTree.iterparse(site / FILES[table]):
        if elem.tag != "row":
            continue
        values = []
        for c in cols:
            text = elem.attrib.get(c.name)
            if text is None and (table, c.name) in ABSENT_IS_ZERO:
                text = "0"
            values.append(normalise(c.type.kind, text))
        out.append(tuple(values))
        elem.clear()
    return sorted(out, key=lambda r: r[0])


def quote(url: DbUrl, name: str) -> str:
    return f"`{name}`" if url.engine in ("mysql", "mariadb") else f'"{name}"'


def db_rows(url: DbUrl, table: str) -> list[tuple]:
    """Every row of `table` read by the engine's own driver, normalised, in Id order."""
    cols = TABLES[table].columns
    listed = ", ".join(quote(url, c.name) for c in cols)
    sql = f"SELECT {listed} FROM {quote(url, table)} ORDER BY {quote(url, 'Id')}"
    return [tuple(normalise(c.type.kind, v) for c, v in zip(cols, r)) for r in rows(url, sql)]


def digest(rows_: list[tuple]) -> tuple[int, str]:
    """Count and sha256 of normalised rows: short to compare, short to print."""
    h = hashlib.sha256()
    for r in rows_:
        h.update(repr(r).encode())
    return len(rows_), h.hexdigest()[:16]


def first_difference(a: list[tuple], b: list[tuple]) -> str:
    """Where two row lists part, for an assertion message."""
    for x, y in zip(a, b):
        if x != y:
            return f"first differing row:\n  {x!r:.600}\n  {y!r:.600}"
    return f"{len(a)} rows vs {len(b)} rows"
