"""Two PostgreSQL databases in different encodings (found by a session: a UTF8 source copied
into a LATIN1 target arrived as mojibake, 'Zoë' as 'ZoÃ«', and verify said MATCH because
both servers hashed the same bytes). Text crosses as UTF-8 and the servers convert: what
LATIN1 holds arrives as itself, what it lacks fails the copy naming table, column and key,
and verify compares the text, not the bytes. Read independently: each side's bytes in its
own encoding (convert_to), and the text over a UTF8 session."""

from __future__ import annotations

import pytest
from tests.conftest import _fresh
from tests.independent import execute, rows
from tests.integration.test_nothing import one_error_line, sluice

HELD = "Zoë Ångström, naïve café"  # every character is in LATIN1
LACKED = "€uro"  # the euro sign is not


@pytest.fixture
def latin1_target(pg_server):
    gen = _fresh(pg_server, "sluice_latin1_dst")
    url = next(gen)
    execute(url.with_database("postgres"), f'DROP DATABASE "{url.database}"',
            f"CREATE DATABASE \"{url.database}\" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
            "TEMPLATE template0")  # fmt: skip
    yield url
    next(gen, None)


@pytest.fixture
def utf8_source(pg_server):
    gen = _fresh(pg_server, "sluice_utf8_src")
    url = next(gen)
    execute(url, "CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)",
            f"INSERT INTO notes VALUES (1, '{HELD}'), (2, 'plain')")  # fmt: skip
    yield url
    next(gen, None)


def test_text_a_latin1_target_holds_arrives_as_itself_and_verifies(utf8_source, latin1_target):
    result = sluice("copy", "--source", utf8_source.render_secret(), "--target",
                    latin1_target.render_secret(), "--verify")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert rows(latin1_target, "SELECT body FROM notes ORDER BY id") == [(HELD,), ("plain",)]
    stored = rows(latin1_target, "SELECT convert_to(body, 'LATIN1') FROM notes WHERE id = 1")
    assert bytes(stored[0][0]) == HELD.encode("latin-1")  # one byte per character, not two
    assert "MATCH" in result.stdout + result.stderr


def test_text_a_latin1_target_lacks_fails_naming_table_column_and_key(utf8_source, latin1_target):
    execute(utf8_source, f"INSERT INTO notes VALUES (7, '{LACKED}')")
    result = sluice("copy", "--source", utf8_source.render_secret(), "--target",
                    latin1_target.render_secret())  # fmt: skip
    line = one_error_line(result)
    assert "notes" in line and "body" in line and "7" in line, result.stderr[-3000:]
    assert rows(latin1_target, "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'") == [
        (0,)
    ]  # nothing half-copied is left live


def test_verify_finds_bytes_that_mean_other_text(utf8_source, latin1_target):
    """The old mojibake, made by hand: the UTF-8 bytes stored as LATIN1 characters. Verify
    compares the text and finds the row changed."""
    execute(latin1_target, "CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)",
            "INSERT INTO notes VALUES (1, convert_from(convert_to("
            f"'{HELD}', 'UTF8'), 'LATIN1')), (2, 'plain')")  # fmt: skip
    result = sluice("verify", "--source", utf8_source.render_secret(), "--target",
                    latin1_target.render_secret())  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISMATCH" in result.stdout + result.stderr
