"""`sluice demo --data DUMP` (`make demo DATA=...`): a real site's .7z imported as the demo's
source instead of generating, then the same DAG run and verification as the generated demo."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.test_dump_archives import COFFEE, _site, rows_in_files, site_archive

REPO = Path(__file__).resolve().parents[2]


def _demo(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "AIRFLOW"))}
    env["SLUICE_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "sluice.cli", "demo", *args],
        capture_output=True, text=True, timeout=600, env=env, cwd=REPO,
    )  # fmt: skip


def test_demo_runs_on_a_real_site_archive(tmp_path: Path) -> None:
    if importlib.util.find_spec("airflow") is None:
        pytest.skip("the demo runs a DAG: needs the airflow extra")
    site = _site(COFFEE)
    archive = site_archive(site, tmp_path / f"{site.name}.7z")
    home = tmp_path / "home"
    try:
        done = _demo(home, "--data", str(archive))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"importing the Stack Exchange dump {archive}" in done.stdout
        assert "DAG run succeeded" in done.stdout and "9 tables match" in done.stdout
        lines = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line}
        for table, n in rows_in_files(site).items():
            assert lines[table][1:4] == [f"{n:,}", "->", f"{n:,}"], lines[table]
            assert lines[table][-1] == "MATCH", lines[table]
    finally:
        env = {**os.environ, "SLUICE_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
        subprocess.run([sys.executable, "-m", "sluice.cli", "embedded", "stop"], env=env,
                       capture_output=True, timeout=120)  # fmt: skip


def test_demo_with_a_wrong_path_stops_before_starting_anything(tmp_path: Path) -> None:
    done = _demo(tmp_path / "home", "--data", str(tmp_path / "nowhere.7z"))
    assert done.returncode != 0
    assert "nowhere.7z" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "pgdata").exists()
