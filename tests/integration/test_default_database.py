"""One default source database: `sluice plan` without URLs reads what the demo generated
(issue 13, item 6), on an embedded PostgreSQL in a private folder."""

from __future__ import annotations

import os
import subprocess
import sys

from sluice.airflow import local
from sluice.cli import demo, options
from sluice.core import embedded


def test_plan_right_after_the_demos_generate(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path / "home"))
    assert local.SOURCE_DB == embedded.SOURCE_DB == options.DEFAULT_DATABASE
    assert options.DEFAULT_SOURCE_DB == embedded.SOURCE_DB
    try:
        demo.demo_source(0.001, 2010)  # what `sluice demo` / `make demo` does first
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        env["SLUICE_HOME"] = str(tmp_path / "home")
        result = subprocess.run(
            [sys.executable, "-m", "sluice.cli", "plan"],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "/stackoverflow_source" in result.stdout and "Votes" in result.stdout
    finally:
        embedded.stop()
