"""`sluice import-dump`: Stack Exchange XML dumps into StackOverflow2010 on real databases.

The dump files are written here in the documented format (entities, `&#xA;` newlines,
non-ASCII text, absent optional attributes, extra attributes such as ContentLicense),
loaded, counted against the files and read back value by value.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tracemalloc
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from tests.realdata import stackexchange_root

from sluice.core.errors import ConfigError, InputFileError
from sluice.core.types import Kind
from sluice.core.urls import DbUrl
from sluice.datasets.loader import count_rows
from sluice.datasets.stackoverflow.dump import (
    DUMP_FILES,
    NOT_NULL_DEFAULTS,
    convert_rows,
    import_dump,
    utf16_length,
)
from sluice.datasets.stackoverflow.generate import VOTE_TYPES
from sluice.datasets.stackoverflow.schema import TABLES
from sluice.dialects import get_dialect

REPO = Path(__file__).resolve().parents[2]
REAL_DUMPS = stackexchange_root() or REPO.parent / "shared" / "data" / "stackexchange"
REAL_BUDGET_BYTES = 300 * 1024 * 1024
ROW_START = re.compile(rb"<row[ \t\r\n/]")

BODY_XML = (
    "&lt;p&gt;Caf&#xE9; na&#xEF;ve &amp; &#x1F600; 日本&lt;/p&gt;&#xA;&lt;pre&gt;&lt;code&gt;"
    "if (a &amp;lt; b)&#xD;&#xA;  x();&lt;/code&gt;&lt;/pre&gt;&#xA;"
)
BODY = "<p>Café naïve & 😀 日本</p>\n<pre><code>if (a &lt; b)\r\n  x();</code></pre>\n"
GUID = "1d3b6ea6-59b5-4d0b-9c3b-7c4f6a0c1e2f"

# Raw <row> lines per file, as the dumps write them.
DUMP: dict[str, list[str]] = {
    "Users": [
        '<row Id="-1" Reputation="1" CreationDate="2008-07-31T00:00:00.000" '
        'DisplayName="Community" LastAccessDate="2008-08-26T00:16:53.810" '
        'WebsiteUrl="http://meta.stackexchange.com/" Location="on the server farm" '
        'AboutMe="&lt;p&gt;Hi, I\'m not really a person.&lt;/p&gt;&#xA;" Views="649" '
        'UpVotes="506" DownVotes="37" AccountId="-1" />',
        '<row Id="2" Reputation="101" CreationDate="2008-07-31T14:22:31.287" '
        'DisplayName="Zoë Łukasz 日本 😀" LastAccessDate="2010-12-31T23:59:59.997" Views="5" '
        'UpVotes="3" DownVotes="0" Age="33" ProfileImageUrl="https://i.example/p.png" />',
        '<row Id="3" Reputation="1" CreationDate="2008-08-01T00:00:00.000" DisplayName="" '
        'LastAccessDate="2008-08-01T00:00:00.000" />',
    ],
    "Posts": [
        '<row Id="1" PostTypeId="1" AcceptedAnswerId="2" CreationDate="2008-07-31T21:42:52.667" '
        f'Score="10" ViewCount="4021" Body="{BODY_XML}" OwnerUserId="2" '
        'LastActivityDate="2010-11-01T10:00:00.003" Title="Why is 日本 &quot;quoted&quot;?" '
        'Tags="&lt;c#&gt;&lt;.net&gt;" AnswerCount="1" CommentCount="2" '
        'ContentLicense="CC BY-SA 2.5" />',
        '<row Id="2" PostTypeId="2" ParentId="1" CreationDate="2008-07-31T22:17:57.883" '
        'Score="3" Body="&lt;p&gt;An answer.&lt;/p&gt;&#xA;" OwnerUserId="-1" '
        'LastActivityDate="2008-07-31T22:17:57.883" CommentCount="0" '
        'ContentLicense="CC BY-SA 2.5" />',
        '<row Id="3" PostTypeId="4" CreationDate="2008-08-01T00:00:00.000" Score="0" Body="" '
        'LastActivityDate="2008-08-01T00:00:00.000" ContentLicense="CC BY-SA 3.0" />',
    ],
    "Comments": [
        '<row Id="1" PostId="1" Score="0" Text="Nice — “quotes” &amp; &lt;b&gt; ünïcödé" '
        'CreationDate="2008-09-06T08:07:10.730" UserId="2" ContentLicense="CC BY-SA 2.5" />',
        '<row Id="2" PostId="1" Text="anonymous" CreationDate="2008-09-06T08:07:11.000" '
        'UserDisplayName="anon" ContentLicense="CC BY-SA 2.5" />',
    ],
    "Badges": [
        '<row Id="1" UserId="2" Name="Teacher" Date="2008-09-15T08:55:03.923" Class="3" '
        'TagBased="False" />',
    ],
    "PostHistory": [
        f'<row Id="1" PostHistoryTypeId="2" PostId="1" RevisionGUID="{GUID}" '
        f'CreationDate="2008-07-31T21:42:52.667" UserId="2" Text="{BODY_XML}" '
        'ContentLicense="CC BY-SA 2.5" />',
        '<row Id="2" PostHistoryTypeId="5" PostId="1" '
        'RevisionGUID="0a1b2c3d-0000-4000-8000-000000000001" '
        'CreationDate="2008-08-01T00:00:00.000" UserDisplayName="anon" Comment="typo" '
        'Text="x" />',
    ],
    "PostLinks": [
        '<row Id="19" CreationDate="2010-04-26T02:59:48.130" PostId="1" RelatedPostId="2" '
        'LinkTypeId="1" />',
    ],
    "Tags": [
        '<row Id="1" TagName="c#" Count="3" ExcerptPostId="3" WikiPostId="3" '
        'IsModeratorOnly="True" IsRequired="false" />',
        '<row Id="2" TagName=".net" />',
    ],
    "Votes": [
        '<row Id="1" PostId="1" VoteTypeId="2" CreationDate="2008-07-31T00:00:00.000" />',
        '<row Id="2" PostId="1" VoteTypeId="8" UserId="2" BountyAmount="50" '
        'CreationDate="2008-08-01T00:00:00.000" />',
    ],
}

# (table, Id) -> the full row as it must come back.
EXPECTED: dict[tuple[str, int], tuple] = {
    ("Users", 2): (
        2, None, 33, datetime(2008, 7, 31, 14, 22, 31, 287000), "Zoë Łukasz 日本 😀", 0, None,
        datetime(2010, 12, 31, 23, 59, 59, 997000), None, 101, 3, 5, None, None,
    ),
    ("Users", 3): (
        3, None, None, datetime(2008, 8, 1), "", 0, None, datetime(2008, 8, 1), None, 1, 0, 0,
        None, None,
    ),
    ("Posts", 1): (
        1, 2, 1, BODY, None, 2, None, datetime(2008, 7, 31, 21, 42, 52, 667000), None,
        datetime(2010, 11, 1, 10, 0, 0, 3000), None, None, None, 2, None, 1, 10, "<c#><.net>",
        'Why is 日本 "quoted"?', 4021,
    ),
    ("Posts", 2): (
        2, None, None, "<p>An answer.</p>\n", None, 0, None,
        datetime(2008, 7, 31, 22, 17, 57, 883000), None,
        datetime(2008, 7, 31, 22, 17, 57, 883000), None, None, None, -1, 1, 2, 3, None, None, 0,
    ),
    ("Comments", 1): (
        1, datetime(2008, 9, 6, 8, 7, 10, 730000), 1, 0, "Nice — “quotes” & <b> ünïcödé", 2,
    ),
    ("PostHistory", 1): (
        1, 2, 1, uuid.UUID(GUID), datetime(2008, 7, 31, 21, 42, 52, 667000), 2, None, None, BODY,
    ),
    ("Tags", 1): (1, "c#", 3, 3, 3, True, False),
    ("Tags", 2): (2, ".net", 0, None, None, None, None),
    ("Votes", 2): (2, 1, 2, 50, 8, datetime(2008, 8, 1)),
}  # fmt: skip


def write_dump(directory: Path, rows: dict[str, list[str]] = DUMP) -> Path:
    """Write one XML file per table, one `<row>` per line after a two-line header."""
    directory.mkdir(parents=True, exist_ok=True)
    for table, lines in rows.items():
        body = "\n".join(f"  {line}" for line in lines)
        root = table.lower()
        text = f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n{body}\n</{root}>\n'
        (directory / DUMP_FILES[table]).write_text(text, encoding="utf-8")
    return directory


def rows_in_file(path: Path) -> int:
    """`<row` occurrences, counted in 1 MiB reads so a multi-GB file stays out of memory."""
    n, tail = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            data = tail + chunk
            n += len(ROW_START.findall(data))
            tail = data[-4:]  # shorter than a match: a row split across reads counts once
    return n


def fetch(url: DbUrl, table: str, key: int) -> tuple | None:
    """One row by Id, normalised to Python types (SQLite keeps datetimes and GUIDs as text)."""
    dialect = get_dialect(url.engine)
    t = TABLES[table]
    cols = ", ".join(dialect.quote(c) for c in t.column_names)
    sql = f"SELECT {cols} FROM {dialect.qualified(t)} WHERE {dialect.quote('Id')} = {int(key)}"
    conn = dialect.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    out = []
    for col, value in zip(t.columns, row):
        if value is not None and col.type.kind is Kind.DATETIME and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif value is not None and col.type.kind is Kind.BOOLEAN:
            value = bool(value)
        elif value is not None and col.type.kind is Kind.UUID and not isinstance(value, uuid.UUID):
            value = uuid.UUID(str(value))
        out.append(value)
    return tuple(out)


@pytest.fixture(params=["pg_db", "sqlite_db", "mysql_db"])
def any_db(request: pytest.FixtureRequest) -> DbUrl:
    return request.getfixturevalue(request.param)


# --- round trip on every engine ----------------------------------------------------------------


def test_every_row_counted_and_values_round_trip(any_db: DbUrl, tmp_path: Path, caplog) -> None:
    directory = write_dump(tmp_path / "site")
    caplog.set_level(logging.INFO, logger="sluice")
    results = import_dump(directory, any_db)

    loaded = {r.table: r.rows for r in results}
    assert set(loaded) == set(DUMP_FILES) | {"VoteTypes"}
    in_db = count_rows(any_db, [TABLES[t] for t in loaded])
    for table, file_name in DUMP_FILES.items():
        in_file = rows_in_file(directory / file_name)
        assert in_file == len(DUMP[table])
        assert loaded[table] == in_file == in_db[table], table
    assert loaded["VoteTypes"] == in_db["VoteTypes"] == 15
    for key, name in VOTE_TYPES:
        assert fetch(any_db, "VoteTypes", key) == (key, name)
    for (table, key), expected in EXPECTED.items():
        assert fetch(any_db, table, key) == expected, (table, key)

    messages = [r.getMessage() for r in caplog.records]
    assert "Posts.ViewCount: 2 absent values stored as 0" in messages
    assert "Users.Views: 1 absent values stored as 0" in messages
    assert "Tags.Count: 1 absent values stored as 0" in messages
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Posts.xml" in m and "ContentLicense (3 values)" in m for m in warnings), warnings
    assert any("Comments.xml" in m and "UserDisplayName (1 values)" in m for m in warnings), (
        warnings
    )
    assert any("Badges.xml" in m and "Class (1 values), TagBased (1 values)" in m for m in warnings)


def test_replace_and_subset_with_lowercase_file_names(sqlite_db: DbUrl, tmp_path: Path) -> None:
    directory = write_dump(tmp_path / "site", {"Users": DUMP["Users"], "Posts": DUMP["Posts"]})
    (directory / "Posts.xml").rename(directory / "posts.xml")
    first = import_dump(directory, sqlite_db, tables=["Posts"])
    assert [(r.table, r.rows) for r in first] == [("Posts", 3)]
    with pytest.raises(ConfigError, match="--replace"):
        import_dump(directory, sqlite_db, tables=["Posts"])
    again = import_dump(directory, sqlite_db, tables=["Users", "Posts"], replace=True)
    assert [(r.table, r.rows) for r in again] == [("Users", 3), ("Posts", 3)]
    assert fetch(sqlite_db, "Posts", 2) == EXPECTED[("Posts", 2)]


def test_not_null_defaults_are_counters_of_not_null_columns() -> None:
    for (table, column), value in NOT_NULL_DEFAULTS.items():
        col = TABLES[table].column(column)
        assert not col.nullable and col.type.kind is Kind.INTEGER and value == 0


# --- errors ------------------------------------------------------------------------------------


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such directory") as info:
        import_dump(tmp_path / "nowhere", DbUrl.parse("sqlite:///unused.db"))
    assert "nowhere" in str(info.value)


def test_directory_without_dump_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no dump here")
    with pytest.raises(InputFileError, match="none of the dump files"):
        import_dump(tmp_path, DbUrl.parse("sqlite:///unused.db"))


def test_requested_table_without_file_names_the_path(tmp_path: Path) -> None:
    directory = write_dump(tmp_path / "site", {"Users": DUMP["Users"]})
    with pytest.raises(InputFileError) as info:
        import_dump(directory, DbUrl.parse("sqlite:///unused.db"), tables=["Users", "Posts"])
    assert str(directory / "Posts.xml") in str(info.value)


def test_unknown_table_lists_the_known_ones(tmp_path: Path) -> None:
    directory = write_dump(tmp_path / "site", {"Users": DUMP["Users"]})
    with pytest.raises(ConfigError, match="unknown table.*Nope.*Badges"):
        import_dump(directory, DbUrl.parse("sqlite:///unused.db"), tables=["Nope"])


def _import_error(db: DbUrl, directory: Path, table: str, lines: list[str]) -> InputFileError:
    write_dump(directory, {table: lines})
    with pytest.raises(InputFileError) as info:
        import_dump(directory, db, tables=[table], replace=True)
    return info.value


def test_malformed_xml_names_file_and_line(sqlite_db: DbUrl, tmp_path: Path) -> None:
    lines = [DUMP["Votes"][0], '<row Id="2" PostId="1" VoteTypeId="2" <broken />']
    err = _import_error(sqlite_db, tmp_path / "site", "Votes", lines)
    assert err.line == 4
    assert f"{tmp_path / 'site' / 'Votes.xml'}:4: malformed XML" in str(err)


def test_not_utf8_names_file_and_line(sqlite_db: DbUrl, tmp_path: Path) -> None:
    directory = write_dump(tmp_path / "site", {"Badges": DUMP["Badges"]})
    path = directory / "Badges.xml"
    path.write_bytes(path.read_bytes().replace(b"Teacher", b"Caf\xe9"))
    with pytest.raises(InputFileError, match=r"Badges\.xml:3: not valid UTF-8: byte 0xE9"):
        import_dump(directory, sqlite_db)


def test_bad_integer_names_attribute_id_and_line(sqlite_db: DbUrl, tmp_path: Path) -> None:
    bad = DUMP["Posts"][1].replace('Id="2"', 'Id="7"').replace('Score="3"', 'Score="12x"')
    err = _import_error(sqlite_db, tmp_path / "site", "Posts", [DUMP["Posts"][0], bad])
    assert err.line == 4
    assert "Posts.xml:4:" in str(err)
    assert "row Id='7'" in str(err) and "attribute Score='12x' is not an integer" in str(err)


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ('Score="1_000"', "Score='1_000' is not an integer"),
        ('Score="2147483648"', "outside the 32-bit integer range"),
        ('Score="3" ClosedDate="yesterday"', "ClosedDate='yesterday' is not a date"),
        ('Score="3" ClosedDate="2008-08-01T00:00:00Z"', "carries a time zone offset"),
    ],
)
def test_values_that_do_not_convert(sqlite_db: DbUrl, tmp_path: Path, attrs, expected) -> None:
    row = DUMP["Posts"][1].replace('Score="3"', attrs)
    err = _import_error(sqlite_db, tmp_path / "site", "Posts", [row])
    assert "row Id='2'" in str(err) and expected in str(err)


def test_bad_boolean_and_guid(sqlite_db: DbUrl, tmp_path: Path) -> None:
    err = _import_error(
        sqlite_db, tmp_path / "a", "Tags", [DUMP["Tags"][0].replace('"True"', '"yes"')]
    )
    assert "IsModeratorOnly='yes' is not True or False" in str(err)
    err = _import_error(
        sqlite_db, tmp_path / "b", "PostHistory", [DUMP["PostHistory"][0].replace(GUID, "g-1")]
    )
    assert "RevisionGUID='g-1' is not a GUID" in str(err)


def test_absent_not_null_without_default(sqlite_db: DbUrl, tmp_path: Path) -> None:
    row = DUMP["Badges"][0].replace('Name="Teacher" ', "")
    err = _import_error(sqlite_db, tmp_path / "site", "Badges", [row])
    assert "Badges.xml:3: row Id='1': attribute Name is absent" in str(err)


def test_too_long_string_is_an_error_not_truncated(sqlite_db: DbUrl, tmp_path: Path) -> None:
    long_title = "x" * 251
    row = DUMP["Posts"][0].replace(
        'Title="Why is 日本 &quot;quoted&quot;?"', f'Title="{long_title}"'
    )
    err = _import_error(sqlite_db, tmp_path / "site", "Posts", [row])
    assert "attribute Title=" in str(err) and "is 251 characters (UTF-16 units) long" in str(err)
    assert "'" + "x" * 80 + "'... (251 characters)" in str(err)
    assert count_rows(sqlite_db, [TABLES["Posts"]])["Posts"] in (None, 0)


def test_string_length_counts_utf16_units(sqlite_db: DbUrl, tmp_path: Path) -> None:
    """DisplayName is nvarchar(40): 20 emoji fill it exactly, 21 (21 characters) do not fit."""
    fits, too_long = "😀" * 20, "😀" * 21
    assert utf16_length(fits) == 40 and len(too_long) == 21
    ok = DUMP["Users"][1].replace("Zoë Łukasz 日本 😀", fits)
    directory = write_dump(tmp_path / "ok", {"Users": [ok]})
    assert import_dump(directory, sqlite_db, tables=["Users"])[0].rows == 1
    assert fetch(sqlite_db, "Users", 2)[4] == fits
    bad = DUMP["Users"][1].replace("Zoë Łukasz 日本 😀", too_long)
    err = _import_error(sqlite_db, tmp_path / "bad", "Users", [bad])
    assert "DisplayName=" in str(err) and "is 42 characters (UTF-16 units) long" in str(err)


def test_wrong_root_and_nested_elements(sqlite_db: DbUrl, tmp_path: Path) -> None:
    directory = write_dump(tmp_path / "site", {"Users": DUMP["Users"]})
    (directory / "Badges.xml").write_bytes((directory / "Users.xml").read_bytes())
    with pytest.raises(InputFileError, match=r"Badges\.xml:2: root element is <users>"):
        import_dump(directory, sqlite_db, tables=["Badges"])
    nested = ['<row Id="1" UserId="2" Name="T" Date="2008-09-15T08:55:03.923"><x/></row>']
    err = _import_error(sqlite_db, tmp_path / "nested", "Badges", nested)
    assert "Badges.xml:3: unexpected element <x>" in str(err)


# --- streaming ---------------------------------------------------------------------------------


def test_memory_stays_bounded_on_a_large_file(tmp_path: Path) -> None:
    """A ~28 MB Comments.xml converts with a peak of a few chunks, not the file."""
    path = tmp_path / "Comments.xml"
    text = "t&#xA;" * 40
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<comments>\n')
        for i in range(1, 80_001):
            f.write(
                f'  <row Id="{i}" PostId="{i}" Score="1" Text="{text}" '
                f'CreationDate="2009-01-01T00:00:00.123" UserId="{i}" />\n'
            )
        f.write("</comments>\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        n = sum(1 for _ in convert_rows(TABLES["Comments"], path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 80_000 == rows_in_file(path)
    assert size > 20_000_000 and peak < 4_000_000, (size, peak)


# --- the real command --------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sluice.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def test_cli_imports_a_dump(pg_db: DbUrl, tmp_path: Path) -> None:
    directory = write_dump(tmp_path / "site")
    done = _cli("import-dump", str(directory), "--target", pg_db.render_secret())
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "ContentLicense (3 values)" in done.stderr
    counts = count_rows(pg_db, [TABLES[t] for t in [*DUMP_FILES, "VoteTypes"]])
    assert counts == {**{t: len(rows) for t, rows in DUMP.items()}, "VoteTypes": 15}


def test_cli_reports_a_malformed_file_without_traceback(pg_db: DbUrl, tmp_path: Path) -> None:
    directory = write_dump(tmp_path / "site", {"Tags": ['<row Id="1" TagName="c#" Count="1"']})
    done = _cli("import-dump", str(directory), "--target", pg_db.render_secret())
    assert done.returncode != 0
    assert "Tags.xml:4: malformed XML" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_missing_directory(tmp_path: Path) -> None:
    done = _cli("import-dump", str(tmp_path / "nowhere"), "--target", "sqlite:///unused.db")
    assert done.returncode != 0
    assert "no such directory" in done.stderr and "Traceback" not in done.stderr


# --- real dumps, when the shared data folder has one -------------------------------------------


def _real_sites() -> list[Path]:
    if not REAL_DUMPS.is_dir():
        return []
    candidates = [REAL_DUMPS, *sorted(p for p in REAL_DUMPS.iterdir() if p.is_dir())]
    return [d for d in candidates if any(p.name.lower() == "posts.xml" for p in d.iterdir())]


def test_real_dump_every_row_counted(pg_db: DbUrl) -> None:
    sites = _real_sites()
    if not sites:
        pytest.skip(f"no Stack Exchange dump (a folder with Posts.xml) under {REAL_DUMPS}")
    budget, left_out = REAL_BUDGET_BYTES, []
    for site in sites:
        files = {
            t: p
            for t, name in DUMP_FILES.items()
            for p in site.iterdir()
            if p.name.lower() == name.lower()
        }
        chosen = []
        for table, path in sorted(files.items(), key=lambda item: item[1].stat().st_size):
            size = path.stat().st_size
            if size <= budget:
                chosen.append(table)
                budget -= size
            else:
                left_out.append(f"{site.name}/{path.name} ({size / 2**20:,.1f} MB)")
        if not chosen:
            continue
        results = import_dump(site, pg_db, tables=[*chosen, "VoteTypes"], replace=True)
        counts = count_rows(pg_db, [TABLES[r.table] for r in results])
        for table in chosen:
            in_file = rows_in_file(files[table])
            assert {r.table: r.rows for r in results}[table] == in_file == counts[table], (
                site,
                table,
            )
    if left_out:
        pytest.skip(
            "checked the files within the 300 MB budget; left out "
            + ", ".join(left_out)
            + " to keep the test bounded"
        )
