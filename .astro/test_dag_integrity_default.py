"""DAG integrity test that `astro dev parse`, `astro dev pytest` and `astro deploy`'s parse run.

The Astro CLI runs `pytest .astro/test_dag_integrity_default.py` inside the project's image, in
/usr/local/airflow (the project root). This file is sluice's own, written for the Airflow the
Dockerfile's runtime ships (3.3): Astronomer's template builds `DagBag(include_examples=False)`,
an argument Airflow 3.3 removed, so it fails before testing anything (docs/airflow.md).

Each file of the DAG folder is one test: it must import with no error unless its path (relative
to the project root, e.g. `dags/legacy.py`) is listed in .astro/dag_integrity_exceptions.txt.
Parsing needs no metadata database and no connection: the DAG files do no database work at parse
time (the project's rule), so nothing is patched here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
DAGS = PROJECT / "dags"
EXCEPTIONS = PROJECT / ".astro" / "dag_integrity_exceptions.txt"


def _exceptions() -> set[str]:
    """Paths listed in the exceptions file (one a line, `#` starts a comment); none without it."""
    if not EXCEPTIONS.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in EXCEPTIONS.read_text().splitlines())
    return {line for line in lines if line}


def _parse() -> tuple[dict[str, str], dict[str, list[str]]]:
    """(import error text by file, DAG ids by file) for every file of the DAG folder, parsed
    as the DAG processor parses a bundle (the folder on sys.path)."""
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")
    dag_ids: dict[str, list[str]] = {}
    for dag in bag.dags.values():
        dag_ids.setdefault(dag.fileloc, []).append(dag.dag_id)
    return bag.import_errors, dag_ids


def _relative(path: str) -> str:
    """A path as the exceptions file names it; a bundle's DagBag gives paths relative to it."""
    return os.path.relpath(os.path.join(DAGS, path), PROJECT)


def _files() -> list[str]:
    return sorted(_relative(str(p)) for p in DAGS.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, str], dict[str, list[str]]]:
    errors, dag_ids = _parse()
    return (
        {_relative(k): v for k, v in errors.items()},
        {_relative(k): v for k, v in dag_ids.items()},
    )


def test_dag_folder_holds_dags(parsed) -> None:
    errors, dag_ids = parsed
    assert dag_ids or errors, f"no DAG found under {DAGS}"


@pytest.mark.parametrize("rel_path", _files())
def test_file_imports(parsed, rel_path: str) -> None:
    errors, _ = parsed
    if rel_path in errors and rel_path not in _exceptions():
        pytest.fail(f"{rel_path} failed to import:\n{errors[rel_path].strip()}", pytrace=False)
