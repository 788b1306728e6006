""".astro/test_dag_integrity_default.py, run the way `astro dev parse` runs it: `pytest` on that
file from the project root (the image's /usr/local/airflow), on the Airflow the Dockerfile's
runtime ships (3.3.2, the version constraints.txt pins, so the one installed here). Astro CLI
skips the parse when the file is missing, and `astro deploy` runs the same parse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("airflow")

from tests.dags.conftest import ROOT  # noqa: E402

TEST = Path(".astro") / "test_dag_integrity_default.py"


def astro_parse(project: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(AIRFLOW_HOME=str(tmp_path / "home"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TEST)]
    return subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=300)


def test_tracked_files_exist() -> None:
    assert (ROOT / TEST).is_file()
    assert (ROOT / ".astro" / "dag_integrity_exceptions.txt").is_file()


def test_project_dags_pass_the_parse(tmp_path: Path) -> None:
    done = astro_parse(ROOT, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout and "failed" not in done.stdout


def test_a_broken_dag_fails_the_parse_unless_excepted(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".astro").mkdir(parents=True)
    shutil.copy(ROOT / TEST, project / TEST)
    (project / "dags").mkdir()
    (project / "dags" / "broken.py").write_text(
        "from airflow.sdk import dag\nimport module_that_is_not_installed\n"
    )
    done = astro_parse(project, tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "dags/broken.py failed to import" in done.stdout
    assert "module_that_is_not_installed" in done.stdout

    (project / ".astro" / "dag_integrity_exceptions.txt").write_text("# known\ndags/broken.py\n")
    done = astro_parse(project, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
