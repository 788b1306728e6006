"""Every command's --help: each option explained, no raw dest names as metavars, a runnable
example, and the exit codes documented in `sluice --help` and the README alike."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from sluice.cli.main import EXIT_CODES, build_parser
from sluice.core.errors import ConfigError, SluiceError

ROOT = Path(__file__).resolve().parents[2]


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(sorted(action.choices.items()))


def _shown_metavar(action: argparse.Action) -> str | None:
    """The metavar --help prints for `action` (None for flags)."""
    if action.nargs == 0:
        return None
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return None  # shown as {a,b,c}
    return action.dest.upper() if action.option_strings else action.dest


@pytest.mark.parametrize("command", list(commands()))
def test_every_option_has_help_and_a_readable_metavar(command):
    parser = commands()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help is not argparse.SUPPRESS, f"{command} {name}: no help"
        metavar = _shown_metavar(action)
        assert metavar is None or "_" not in metavar, f"{command} {name}: metavar {metavar}"
    text = parser.format_help()
    # a dest name like VERIFY_CHUNK_ROWS leaking into the usage line or option list
    leaked = [m for m in re.findall(r"(?<![$\w])[A-Z]+(?:_[A-Z]+)+\b", text)]
    assert leaked == [], f"{command} --help shows {leaked}"


@pytest.mark.parametrize("command", list(commands()))
def test_every_example_parses_as_written(command):
    """The example in each epilog is a command line the parser accepts, as printed."""
    parser = commands()[command]
    example = parser.epilog.split("example:\n", 1)[1].strip().splitlines()[0]
    for part in example.split("&&"):
        argv = shlex.split(part)
        assert argv[0] == "sluice"
        args = build_parser().parse_args(argv[1:])
        assert args.command == argv[1]
    assert example.startswith(f"sluice {command}")


def test_top_level_help_documents_exit_codes_and_has_an_example():
    text = build_parser().format_help()
    assert "example:\n  sluice " in text
    assert "exit codes:" in text
    for code in (0, 1, 2, 3, 130):
        assert re.search(rf"^  {code}\s+\S", text, re.M), code
    # the codes the CLI actually returns for its two error classes are the documented ones
    assert SluiceError.exit_code == 1 and ConfigError.exit_code == 2
    assert set(EXIT_CODES) == {0, 1, 2, 3, 130}


def test_readme_documents_the_same_exit_codes_and_test_duration():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in EXIT_CODES:
        assert re.search(rf"^\| `{code}` \|", section, re.M), code
    tests = readme.split("## Tests", 1)[1].split("\n## ", 1)[0]
    assert "minutes" in tests and "skipped" in tests
