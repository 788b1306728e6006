"""The embedded PostgreSQL itself, in a private folder: start, serve, stop cleanly.

Runs even when SLUICE_TEST_PG_URL points elsewhere, so CI always exercises the
default a user gets on a fresh machine.
"""

from __future__ import annotations

import subprocess
import sys

from sluice.core import embedded
from sluice.datasets.loader import count_rows
from sluice.datasets.stackoverflow import TABLES
from sluice.datasets.stackoverflow.generate import generate, row_counts
from sluice.dialects import get_dialect


def test_start_generate_stop(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path / "home"))
    assert embedded.url() is None
    url = embedded.start()
    try:
        assert url.url.query["host"].startswith(str(tmp_path))  # a Unix socket in our folder
        assert embedded.start() == url  # idempotent: the running server is reused
        target = url.with_database("so_embedded")
        generate(target, 0.001, tables=["Users", "VoteTypes"])
        assert count_rows(target, [TABLES["Users"]]) == {"Users": row_counts(0.001)["Users"]}
        with get_dialect("postgresql").connect(target) as conn:
            version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 180000
    finally:
        assert embedded.stop() is True
    assert embedded.url() is None
    assert embedded.stop() is False


def test_cli_status_and_url(tmp_path):
    env = {"SLUICE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}

    def sluice(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "sluice.cli", "embedded", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)

    assert "not running" in sluice("status").stdout
    assert sluice("url").returncode == 1
    started = sluice("start")
    try:
        assert started.returncode == 0 and started.stdout.startswith("postgresql://postgres@/")
        url = sluice("url", "--database", "so").stdout.strip()
        assert url.startswith("postgresql://postgres@/so?host=")
    finally:
        assert sluice("stop").stdout.strip() == "stopped"
    assert "not running" in sluice("status").stdout
