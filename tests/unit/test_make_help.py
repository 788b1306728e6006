"""`make help` lists every target a user runs: each one in the Makefile's .PHONY line."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def phony_targets() -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = []
    for line in re.findall(r"^\.PHONY:(.*)$", text, re.M):
        targets += line.split()
    return targets


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_every_phony_target():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout  # fmt: skip
    listed = set(re.findall(r"^make (\S+)", out, re.M))
    targets = phony_targets()
    assert {"embedded-stop", "lint", "format", "venv", "demo", "test"} <= set(targets)
    assert sorted(set(targets) - listed) == []


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_shows_the_airflow_port_it_will_use():
    env = {"PATH": "/usr/bin:/bin", "AIRFLOW__API__PORT": "9191"}
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True, env=env).stdout  # fmt: skip
    assert "http://localhost:9191" in out and ":8080" not in out
