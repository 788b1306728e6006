"""What the Astro image build context holds: .dockerignore applied to a clean checkout plus the
paths users create (tools/build_context.py, which applies Docker's matching rules).

`astro dev start` and `astro deploy` send the context to the image build, whose ONBUILD step
copies it into /usr/local/airflow; `astro deploy` pushes the result. Nothing local belongs
there: database files, virtual environments, benchmark results, Airflow state, and
airflow_settings.yaml (local connection passwords; Astro's default .dockerignore leaves it out).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest
from tests.dags.conftest import ROOT


def _load():
    path = ROOT / "tools" / "build_context.py"
    spec = importlib.util.spec_from_file_location("build_context", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bc = _load()

# Paths users and this project's own commands create in a checkout, by kind.
LOCAL_PATHS = {
    "database files": [
        "include/mssql-data/StackOverflow2010.mdf",
        "include/mssql-data/StackOverflow2010_log.ldf",
        "include/mssql-data/StackOverflow2010.bak",
        "include/StackOverflow2010.mdf",
        "StackOverflow2010_log.ldf",
    ],
    "virtual environments": [
        ".venv/bin/python",
        ".venv/lib/python3.12/site-packages/sqlalchemy/__init__.py",
        "bench/.venv-tools/bin/python",
        ".sluice/astro-venv/bin/python",
        ".sluice/uv/bin/uv",
        ".venv-other/bin/python",
    ],
    "benchmark results": ["bench/results/compare.json", "bench/results/compare-full.json"],
    "local Airflow state": [
        ".sluice/airflow/airflow.db",
        ".sluice/airflow/logs/dag_id=x/run_id=y/task_id=z/attempt=1.log",
        ".sluice/pg/data/PG_VERSION",
        "airflow_home/airflow.cfg",
        "airflow_home/airflow.db",
        ".astro/standalone/airflow.db",
        ".astro/standalone/airflow.log",
        "logs/scheduler/latest",
        "airflow.db",
        "airflow.cfg",
        "webserver_config.py",
        "airflow-webserver.pid",
        ".env",
    ],
    "local connection settings": ["airflow_settings.yaml"],
    "caches": [".pytest_cache/v/cache/nodeids", "src/sluice/__pycache__/cli.cpython-312.pyc"],
}
# What the Dockerfile's pip line and the runtime need from the context.
NEEDED = [
    "pyproject.toml",
    "README.md",  # pyproject's readme: the wheel build reads it
    "constraints.txt",
    "requirements.txt",
    "packages.txt",
    "src/sluice/__init__.py",
    "dags/replicate_stackoverflow.py",
    ".astro/test_dag_integrity_default.py",
    ".astro/dag_integrity_exceptions.txt",
    "include/.gitkeep",
]

# (patterns, path, excluded?) pinning Docker's matching rules as tools/build_context.py states them
RULES = [
    ("logs", "logs/scheduler/x.log", True),  # a directory takes everything under it
    ("logs", "dags/logs/x.log", False),  # anchored at the root
    ("logs/", "logs/x", True),  # a trailing slash is cleaned away
    ("/logs", "logs/x", True),  # so is a leading one
    ("./logs", "logs/x", True),
    ("*.db", "airflow.db", True),
    ("*.db", "home/airflow.db", False),  # `*` never crosses a `/`
    ("**/*.db", "home/deep/airflow.db", True),
    ("**/*.db", "airflow.db", True),  # `**/` is zero directories too
    ("home/**", "home/a/b", True),
    ("home/**", "homework", False),
    ("a?c", "abc", True),
    ("a?c", "a/c", False),
    ("[ab].txt", "b.txt", True),
    ("[^ab].txt", "b.txt", False),  # `^` negates, as in a regular expression
    ("[^ab].txt", "c.txt", True),
    ("[!ab].txt", "b.txt", True),  # `!` does not: Docker hands `[` `]` to its regexp as they are
    ("[!ab].txt", "c.txt", False),
    ("**/airflow.db", "x/y/airflow.db", True),  # `**` then literal: a suffix
    ("**/airflow.db", "x/my-airflow.db", False),
    ("**.db", "x/airflow.db", True),  # a suffix without the `/`: any path ending in `.db`
    ("home**", "homework/a", True),  # a trailing `**` after literal text: a prefix
    ("a/**/z", "a/z", True),
    ("a/**/z", "a/b/c/z", True),
    ("\\*.txt", "*.txt", True),
    ("\\*.txt", "a.txt", False),
    ("# logs", "# logs", False),  # a comment, not a pattern
    ("data\n!data/README.md", "data/README.md", False),  # `!` puts a path back
    ("data\n!data/README.md", "data/big.mdf", True),
    ("!data/README.md\ndata", "data/README.md", True),  # the last matching line decides
    ("data/*\n!data/keep\ndata/keep/secret", "data/keep/secret", True),
    ("data/*\n!data/keep\ndata/keep/secret", "data/keep/other", False),
]


@pytest.mark.parametrize(("patterns", "path", "excluded"), RULES)
def test_matching_follows_dockers_rules(patterns: str, path: str, excluded: bool) -> None:
    assert bc.ignored(path, bc.parse(patterns)) is excluded


def test_bad_patterns_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match=r"\[abc"):
        bc.parse("[abc")
    with pytest.raises(ValueError, match="`!` alone"):
        bc.parse("logs\n!\n")


@pytest.fixture(scope="module")
def rules():
    return bc.parse((ROOT / ".dockerignore").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", sorted(LOCAL_PATHS))
def test_local_paths_stay_out_of_the_image(rules, kind: str) -> None:
    kept = [p for p in LOCAL_PATHS[kind] if not bc.ignored(p, rules)]
    assert kept == [], f"{kind} would be built into the image: {kept}"


def test_what_the_image_build_needs_is_in_the_context(rules) -> None:
    assert [p for p in NEEDED if bc.ignored(p, rules)] == []


def test_clean_checkout_context_holds_nothing_local() -> None:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout (inside the image, `astro dev pytest`): no file list")
    also = [p for paths in LOCAL_PATHS.values() for p in paths]
    context = bc.context_files(ROOT, also)
    assert set(context).isdisjoint(also)
    assert set(NEEDED) <= set(context)
    suffixes = (".mdf", ".ldf", ".bak", ".db", ".pyc")
    assert [p for p in context if p.endswith(suffixes) or "/.venv" in f"/{p}"] == []
