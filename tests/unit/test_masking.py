"""Masking keeps messages readable: the URL's password field is masked whatever it holds, and
free text loses only whole occurrences of secrets long and unusual enough to be worth hunting
(issue 13, item 5). The leak tests (tests/reliability/test_secrets_*) hold the other side."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest

from sluice.core.urls import MASK, DbUrl, free_text_maskable, redact_all


def _url(user: str, password: str, host: str = "127.0.0.1", db: str = "so") -> DbUrl:
    return DbUrl.parse(f"postgresql://{user}:{quote(password, safe='')}@{host}:5432/{db}")


def _message(user: str, password: str) -> str:
    """What a driver might say, with the URL in it (password URL-encoded) and the password
    once more as a libpq conninfo option."""
    enc = quote(password, safe="")
    return (
        f"connection to postgresql://{user}:{enc}@127.0.0.1:5432/so failed: "
        f'FATAL: password authentication failed for user "{user}"; '
        f'database "x" does not exist (dsn: host=127.0.0.1 user={user} password={password})'
    )


@pytest.mark.parametrize("password", ["root", "postgres", "1", "x"])
def test_short_or_common_password_leaves_the_message_intact(password):
    user = "root" if password == "root" else "postgres"
    url = _url(user, password)
    text = _message(user, password)
    expected = (
        f"connection to postgresql://{user}:{MASK}@127.0.0.1:5432/so failed: "
        f'FATAL: password authentication failed for user "{user}"; '
        f'database "x" does not exist (dsn: host=127.0.0.1 user={user} password={MASK})'
    )
    assert url.redact(text) == expected
    assert redact_all(text) == expected
    assert str(url) == f"postgresql://{user}:{MASK}@127.0.0.1:5432/so"


def test_the_user_name_survives_a_password_equal_to_it():
    url = _url("root", "root")
    said = "Access denied for user 'root'@'localhost' (using password: YES)"
    assert url.redact(said) == said


def test_a_long_password_is_masked_wherever_it_stands_whole():
    secret = "hunter2-Zq9"
    url = _url("alice", secret)
    text = f"bad value '{secret}' near {quote(secret, safe='')}; x{secret}y stays"
    out = url.redact(text)
    assert out == f"bad value '{MASK}' near {MASK}; x{secret}y stays"
    assert redact_all(f"({secret})") == f"({MASK})"


def test_a_password_of_twelve_characters_or_more_is_masked_even_inside_a_word():
    secret = "Kq7-long-secret-55"
    url = _url("dave", secret)
    assert url.redact(f"x{secret}y") == f"x{MASK}y"


def test_the_rule():
    DbUrl.parse("postgresql://carol:carol@h/db")
    assert not free_text_maskable("abc")  # too short
    assert not free_text_maskable("Password")  # a word the engines print
    assert not free_text_maskable("carol")  # shown anyway as a user name
    assert free_text_maskable("Tr0ub4dor&3")


def test_conninfo_and_odbc_password_options_are_masked_structurally():
    text = "dsn host=h password='a b c' user=u; Server=h;Password=pw1;Database=d"
    masked = f"dsn host=h password={MASK} user=u; Server=h;Password={MASK};Database=d"
    assert redact_all(text) == masked


def test_postgres_scheme_is_postgresql():
    url = DbUrl.parse("postgres://u:pw1234@127.0.0.1:5432/db")
    assert url.engine == "postgresql"
    assert str(url) == f"postgresql://u:{MASK}@127.0.0.1:5432/db"
    assert DbUrl.parse("postgres+psycopg://u@h/db").url.drivername == "postgresql+psycopg"


def test_postgres_scheme_through_the_cli(pg_db, tmp_path):
    """`sluice plan --source postgres://...` plans the source's table."""
    from sluice.dialects import get_dialect

    with get_dialect("postgresql").connect(pg_db, autocommit=True) as conn:
        conn.execute('CREATE TABLE "Things" ("Id" integer PRIMARY KEY, "Name" text)')
    text = pg_db.render_secret().replace("postgresql", "postgres", 1)
    result = subprocess.run(
        [sys.executable, "-m", "sluice.cli", "plan", "--source", text,
         "--target", f"sqlite:///{tmp_path / 't.db'}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "source postgresql://" in result.stdout and "Things" in result.stdout
    assert not (tmp_path / "t.db").exists()  # planning creates nothing
