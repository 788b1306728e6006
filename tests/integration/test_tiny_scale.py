"""`generate --scale 1e-9` works: Users then holds only the Community user (Id -1), and the
identity's next value is clamped to 1 when generating and when a copy finishes (issue 13,
item 7)."""

from __future__ import annotations

import subprocess
import sys

from sluice.copy import CopyOptions, copy_database
from sluice.dialects import get_dialect


def test_tiny_scale_generates_and_copies(pg_db, pg_server):
    from tests.conftest import _fresh

    result = subprocess.run(
        [sys.executable, "-m", "sluice.cli", "generate", "stackoverflow", "--scale", "1e-9",
         "--target", pg_db.render_secret()],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    other = _fresh(pg_server, "sluice_test")
    replica = next(other)
    try:
        copied = copy_database(pg_db, replica, CopyOptions(workers=2))
        assert copied.ok, copied.failures
        assert copied.finish.identities["Users"] == 1
        for url in (pg_db, replica):  # a user inserted without an Id gets 1
            with get_dialect("postgresql").connect(url, autocommit=True) as conn:
                row = conn.execute(
                    'INSERT INTO "Users" ("DisplayName", "CreationDate", "LastAccessDate", '
                    '"Reputation", "Views", "UpVotes", "DownVotes") '
                    "VALUES ('new', now(), now(), 1, 0, 0, 0) RETURNING \"Id\""
                ).fetchone()
                assert row[0] == 1
    finally:
        next(other, None)
