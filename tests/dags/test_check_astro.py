"""tools/check_astro.py reads the Dockerfile as the image build does: the runtime's Airflow and
Python from the FROM tag, and the one pip line the check replays (`make check-astro` itself is
slow and stays out of `make test`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from tests.dags.conftest import ROOT


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # check_astro imports build_context by name
    spec.loader.exec_module(module)
    return module


_load("build_context")
ca = _load("check_astro")


def test_the_dockerfiles_runtime_matches_the_lock() -> None:
    tag, airflow, python = ca.runtime((ROOT / "Dockerfile").read_text())
    assert (tag, python) == ("3.3-8", "3.12")
    assert ca.pinned("apache-airflow") == f"apache-airflow=={airflow}"


@pytest.mark.parametrize(
    ("line", "expected"),
    [("FROM astrocrpublic.azurecr.io/runtime:3.3-8", ("3.3-8", "3.3.2", "3.12")),
     ("FROM astrocrpublic.azurecr.io/runtime:3.3-8-python-3.11", ("3.3-8", "3.3.2", "3.11")),
     ("FROM astrocrpublic.azurecr.io/runtime:3.3-8-python-3.13-base", ("3.3-8", "3.3.2", "3.13"))],
)  # fmt: skip
def test_runtime_reads_the_tag(line: str, expected: tuple) -> None:
    assert ca.runtime(line + "\n") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("RUN true\n", "no `FROM"), ("FROM runtime:latest\n", "not <3.minor>"),
     ("FROM runtime:9.9-1\n", "RUNTIME_AIRFLOW")],
)  # fmt: skip
def test_runtime_refuses_what_it_cannot_map(text: str, message: str) -> None:
    with pytest.raises(ca.CheckError, match=message):
        ca.runtime(text)


def test_pip_line_is_the_dockerfiles_with_the_context_for_the_image_home() -> None:
    words = ca.pip_line((ROOT / "Dockerfile").read_text(), Path("/ctx"))
    assert words[words.index("-c") + 1] == "/ctx/constraints.txt"
    assert "/ctx[mssql,mysql]" in words
    assert not any("/usr/local/airflow" in w or w in ("&&", "rm") for w in words)


def test_pip_line_wants_exactly_one_pip_install() -> None:
    with pytest.raises(ca.CheckError, match="found 2"):
        ca.pip_line("RUN pip install a \\\n && python -m pip install b\n", Path("/ctx"))
    with pytest.raises(ca.CheckError, match="found 0"):
        ca.pip_line("RUN true\n", Path("/ctx"))


def test_a_missing_python_is_named_with_what_to_do(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pyenv, no python3.99 on PATH
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(ca.CheckError, match=r"Python 3\.99 .*pyenv install 3\.99"):
        ca.find_python("3.99")
