"""A real Stack Exchange site (coffee, beer: /work/shared/data/stackexchange) imported the three
ways users download it: its folder of XML files, its site `.7z`, and a folder of per-table
`.7z` files (stackoverflow.com's layout), built here with py7zr. The three give the same row
counts and the same contents, digested in SQL by PostgreSQL itself (tests.independent).

`--keep-extra-columns` on beer (Badges.Class and TagBased, OwnerDisplayName, ...): the columns
hold every value the files carry, and the imported site copies PG -> PG and verifies equal."""

from __future__ import annotations

import re
from pathlib import Path

import py7zr
import pytest
from tests import independent
from tests.realdata import stackexchange_root

from sluice.copy import CopyOptions, copy_database
from sluice.core.errors import InputFileError
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import TABLE_NAMES
from sluice.datasets.stackoverflow.dump import DUMP_FILES, import_dump
from sluice.verify import VerifyOptions, verify_database

# beside the project root, $SLUICE_STACKEXCHANGE_DATA, or a worktree's main checkout's
SITES = stackexchange_root() or Path("shared-data-missing")
COFFEE = SITES / "coffee.stackexchange.com"
BEER = SITES / "beer.stackexchange.com"
ROW_START = re.compile(rb"<row[ \t\r\n/]")


def _site(path: Path) -> Path:
    if not (path / "Posts.xml").exists():
        pytest.skip(f"no real dump at {path}")
    return path


def site_archive(site: Path, archive: Path) -> Path:
    """The site's files in one .7z, as archive.org ships a site."""
    with py7zr.SevenZipFile(archive, "w") as z:
        for path in sorted(site.iterdir()):
            z.write(path, path.name)
    return archive


def per_table_archives(site: Path, folder: Path) -> Path:
    """One .7z per file, named like stackoverflow.com-Posts.7z."""
    folder.mkdir()
    for path in sorted(site.iterdir()):
        with py7zr.SevenZipFile(folder / f"{site.name}-{path.stem}.7z", "w") as z:
            z.write(path, path.name)
    return folder


def digests(url: DbUrl) -> dict[str, tuple[int, str]]:
    """Per dataset table: rows, and md5 of every row's text form in Id order, computed by
    PostgreSQL (sluice's own bookkeeping tables left out)."""
    out = {}
    for (table,) in independent.rows(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ):
        if table not in TABLE_NAMES:
            continue
        ((n, md5),) = independent.rows(
            url,
            f'SELECT count(*), md5(string_agg(t::text, E\'\\n\' ORDER BY t."Id")) FROM "{table}" t',
        )
        out[table] = (n, md5)
    return out


def rows_in_files(site: Path) -> dict[str, int]:
    return {t: len(ROW_START.findall((site / f).read_bytes())) for t, f in DUMP_FILES.items()}


@pytest.fixture
def second_pg(pg_server: DbUrl):
    from tests.conftest import _fresh

    yield from _fresh(pg_server, "sluice_test")


@pytest.fixture
def third_pg(pg_server: DbUrl):
    from tests.conftest import _fresh

    yield from _fresh(pg_server, "sluice_test")


def test_folder_site_archive_and_per_table_archives_import_the_same(
    pg_db: DbUrl, second_pg: DbUrl, third_pg: DbUrl, tmp_path: Path
) -> None:
    site = _site(COFFEE)
    forms = {
        "folder": (site, pg_db),
        "site .7z": (site_archive(site, tmp_path / f"{site.name}.7z"), second_pg),
        "per-table .7z": (per_table_archives(site, tmp_path / "stackoverflow-layout"), third_pg),
    }
    loaded = {}
    for name, (dump, db) in forms.items():
        loaded[name] = {r.table: r.rows for r in import_dump(dump, db)}
    expected = {**rows_in_files(site), "VoteTypes": 15}
    assert loaded["folder"] == loaded["site .7z"] == loaded["per-table .7z"] == expected

    folder, whole, split = (digests(db) for _, db in forms.values())
    assert set(folder) == set(expected)
    assert {t: n for t, (n, _) in folder.items()} == expected
    assert folder == whole == split


def test_damaged_archive_names_the_archive_and_member(pg_db: DbUrl, tmp_path: Path) -> None:
    site = _site(COFFEE)
    archive = site_archive(site, tmp_path / "coffee.7z")
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # packed stream damaged, header intact
    archive.write_bytes(bytes(data))
    with pytest.raises(InputFileError) as info:
        import_dump(archive, pg_db)
    assert str(archive) in str(info.value)


def test_keep_extra_columns_then_copy_and_verify(pg_db: DbUrl, second_pg: DbUrl) -> None:
    site = _site(BEER)
    import_dump(site, pg_db, keep_extra_columns=True)
    columns = dict(
        independent.rows(
            pg_db,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public'",
        )
    )
    assert columns["Badges.Class"] == "integer"
    assert columns["Badges.TagBased"] == "boolean"
    assert columns["Posts.OwnerDisplayName"] == "text"
    assert columns["Comments.UserDisplayName"] == "text"
    assert columns["Users.ProfileImageUrl"] == "text"

    # every value the files carry, nothing else: counted in the files, counted in the columns
    for table, column in [
        ("Badges", "Class"),
        ("Badges", "TagBased"),
        ("Posts", "OwnerDisplayName"),
        ("Comments", "UserDisplayName"),
        ("Users", "ProfileImageUrl"),
    ]:
        text = (site / DUMP_FILES[table]).read_bytes()
        in_file = len(re.findall(rb"\s" + column.encode() + rb'="', text))
        ((in_db,),) = independent.rows(pg_db, f'SELECT count("{column}") FROM "{table}"')
        assert in_db == in_file > 0, (table, column)
    assert independent.rows(pg_db, 'SELECT "Class", "TagBased" FROM "Badges" WHERE "Id" = 1') == [
        (3, False)
    ]

    result = copy_database(pg_db, second_pg, CopyOptions(workers=2))
    assert result.ok, result.failures
    report = verify_database(pg_db, second_pg, VerifyOptions(workers=2))
    assert report.ok, [(t.name, [r.to_dict() for r in t.mismatches]) for t in report.tables]
    assert digests(pg_db) == digests(second_pg)
