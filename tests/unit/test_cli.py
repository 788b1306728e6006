"""The command line: help with runnable examples, and clear errors without tracebacks or secrets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sluice.cli import build_parser

SECRET = "Sw0rdfish-7731"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    full_env = {**os.environ, **(env or {})}
    full_env.pop("SLUICE_TARGET_URL", None) if env is None else None
    return subprocess.run(
        [sys.executable, "-m", "sluice.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


@pytest.mark.parametrize("command", subcommands())
def test_every_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert "example:\n  sluice " + command in result.stdout


def test_scale_must_be_positive():
    for bad in ("0", "-1", "abc"):
        result = run("generate", "stackoverflow", "--scale", bad)
        assert result.returncode == 2
        assert "--scale" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_is_clear_and_masks_the_password():
    url = f"postgresql://alice:{SECRET}@127.0.0.1:1/so"
    result = run("generate", "stackoverflow", "--scale", "0.001", "--target", url)
    assert result.returncode != 0
    assert "cannot connect to postgresql://alice:***@127.0.0.1:1/so" in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_url_from_environment_is_masked_too():
    env = {"SLUICE_TARGET_URL": f"mysql+pymysql://bob:{SECRET}@127.0.0.1:1/so"}
    result = run("generate", "stackoverflow", "--scale", "0.001", env=env)
    assert result.returncode != 0
    assert "bob:***@" in result.stderr and SECRET not in result.stderr + result.stdout


def test_malformed_url_and_unknown_engine():
    result = run("generate", "stackoverflow", "--target", f"not a url :{SECRET}@")
    assert result.returncode == 2 and "not a database URL" in result.stderr
    assert SECRET not in result.stderr
    result = run("generate", "stackoverflow", "--target", "oracle://u@h/db")
    assert result.returncode == 2
    assert "unknown database engine 'oracle'" in result.stderr and "postgresql" in result.stderr


def test_wrong_password_is_masked(pg_server):
    if pg_server.url.host is None:
        pytest.skip("the embedded PostgreSQL trusts every local login; needs a TCP server")
    url = pg_server.url.set(username="nobody_here", password=SECRET, database="postgres")
    result = run("generate", "stackoverflow", "--target", url.render_as_string(False))
    assert result.returncode != 0 and SECRET not in result.stderr + result.stdout
    assert "nobody_here" in result.stderr
