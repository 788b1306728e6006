"""Finding a dump's documents in a folder, a site's .7z or per-table .7z files (names matched
case-insensitively), and streaming an archive member: the same rows as the file, errors naming
archive and member, no thread left behind when the reader stops early."""

from __future__ import annotations

import threading
from pathlib import Path

import py7zr
import pytest

from sluice.core.errors import InputFileError
from sluice.datasets.stackoverflow.dump import find_files, read_rows
from sluice.datasets.stackoverflow.sources import DumpFile

USERS = (
    '\ufeff<?xml version="1.0" encoding="utf-8"?>\r\n<users>\r\n'
    '  <row Id="-1" DisplayName="Community" />\r\n'
    '  <row Id="2" DisplayName="Zo\u00eb \U0001f600" />\r\n</users>\r\n'
).encode()
POSTS = b'<?xml version="1.0" encoding="utf-8"?>\n<posts>\n  <row Id="1" />\n</posts>\n'


def archive(path: Path, members: dict[str, bytes]) -> Path:
    with py7zr.SevenZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(data, name)
    return path


def test_site_archive_members_matched_case_insensitively(tmp_path: Path) -> None:
    site = archive(tmp_path / "x.stackexchange.com.7z", {"USERS.xml": USERS, "posts.XML": POSTS})
    found = find_files(site)
    assert found == {"Users": DumpFile(site, "USERS.xml"), "Posts": DumpFile(site, "posts.XML")}
    assert str(found["Users"]) == f"{site}:USERS.xml"


def test_site_archive_with_a_folder_inside(tmp_path: Path) -> None:
    site = archive(tmp_path / "s.7z", {"s.stackexchange.com/Posts.xml": POSTS})
    assert find_files(site) == {"Posts": DumpFile(site, "s.stackexchange.com/Posts.xml")}


def test_per_table_archives_the_stackoverflow_layout(tmp_path: Path) -> None:
    users = archive(tmp_path / "stackoverflow.com-Users.7z", {"Users.xml": USERS})
    posts = archive(tmp_path / "Stackoverflow.com-POSTS.7z", {"posts.xml": POSTS})
    (tmp_path / "readme.txt").write_text("not a dump file")
    assert find_files(tmp_path) == {
        "Posts": DumpFile(posts, "posts.xml"),
        "Users": DumpFile(users, "Users.xml"),
    }


def test_extracted_file_wins_over_its_archive(tmp_path: Path) -> None:
    archive(tmp_path / "stackoverflow.com-Users.7z", {"Users.xml": USERS})
    (tmp_path / "users.xml").write_bytes(USERS)
    assert find_files(tmp_path) == {"Users": DumpFile(tmp_path / "users.xml")}


def test_per_table_archive_without_its_document(tmp_path: Path) -> None:
    archive(tmp_path / "stackoverflow.com-Users.7z", {"Posts.xml": POSTS})
    with pytest.raises(InputFileError, match=r"Users\.7z: expected one Users\.xml inside"):
        find_files(tmp_path)


def test_requested_table_missing_from_the_site_archive(tmp_path: Path) -> None:
    site = archive(tmp_path / "s.7z", {"Users.xml": USERS})
    with pytest.raises(InputFileError, match=r"s\.7z: holds no Posts\.xml \(needed for Posts\)"):
        find_files(site, ["Users", "Posts"])


def test_not_a_7z_archive(tmp_path: Path) -> None:
    (tmp_path / "stackoverflow.com-Posts.7z").write_bytes(b"7z but not really")
    with pytest.raises(InputFileError, match=r"Posts\.7z: not a readable \.7z archive"):
        find_files(tmp_path)


def test_folder_of_site_archives_points_at_them(tmp_path: Path) -> None:
    archive(tmp_path / "coffee.stackexchange.com.7z", {"Users.xml": USERS})
    with pytest.raises(InputFileError, match="pass one of the archives inside: coffee"):
        find_files(tmp_path)


def test_member_streams_the_same_rows_as_the_file(tmp_path: Path) -> None:
    (tmp_path / "Users.xml").write_bytes(USERS)
    site = archive(tmp_path / "s.7z", {"Users.xml": USERS})
    from_file = list(read_rows(tmp_path / "Users.xml", "users"))
    assert list(read_rows(DumpFile(site, "Users.xml"), "users")) == from_file
    assert [attrs["DisplayName"] for _, attrs in from_file] == ["Community", "Zoë 😀"]


def test_errors_in_a_member_name_archive_member_and_line(tmp_path: Path) -> None:
    bad = USERS.replace(b'<row Id="2"', b'<row Id="2" <broken')
    site = archive(tmp_path / "s.7z", {"Users.xml": bad})
    with pytest.raises(InputFileError, match=r"s\.7z:Users\.xml:4: malformed XML"):
        list(read_rows(DumpFile(site, "Users.xml"), "users"))
    latin1 = USERS.replace("Zoë".encode(), b"Zo\xeb")
    site = archive(tmp_path / "t.7z", {"Users.xml": latin1})
    with pytest.raises(InputFileError, match=r"t\.7z:Users\.xml:4: not valid UTF-8: byte 0xEB"):
        list(read_rows(DumpFile(site, "Users.xml"), "users"))


def test_stopping_early_ends_the_extraction_thread(tmp_path: Path) -> None:
    rows = b"".join(b'<row Id="%d" DisplayName="u%d" />\n' % (i, i) for i in range(200_000))
    site = archive(tmp_path / "s.7z", {"Users.xml": b"<users>\n" + rows + b"</users>\n"})
    before = threading.active_count()
    reader = read_rows(DumpFile(site, "Users.xml"), "users")
    assert next(reader)[1]["Id"] == "0"
    reader.close()
    assert threading.active_count() == before
