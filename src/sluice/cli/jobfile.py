"""`--config job.yaml`: a command's options written down once (docs/selection.md "Job files").

The keys are the command's own options (`sluice.core.jobspec` reads them from its parser), so
an option added to a command is a key of its job files at once. Precedence: a flag given on
the command line > the environment ($SLUICE_SOURCE_URL, $SLUICE_TARGET_URL) > the file > the
command's default. A key of another job command (`lock_timeout` read by `sluice verify`) is
left out with a note, so one file serves copy, verify and plan; any other key is an error
naming the file, the line and the closest option. The same reading turns a DAG run's params
into the command's options (cli/dagparams.py).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sluice.core import jobspec
from sluice.core.errors import ConfigError

log = logging.getLogger("sluice")

# the commands that take a job file; one file may serve all of them
JOB_COMMANDS = ("plan", "copy", "verify", "sync")

# a key the environment overrides (flag > environment > file), as `options.endpoints` reads it
ENVIRONMENT = {"source": "SLUICE_SOURCE_URL", "target": "SLUICE_TARGET_URL"}


def add_config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE",
                   help="read the options from a YAML job file (keys: the options' names, "
                        "as in `exclude_tables: [Votes]`; ${VAR} is an environment variable); "
                        "a flag given here overrides the file")  # fmt: skip


def subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise KeyError(command)


def other_keys(parser: argparse.ArgumentParser, command: str) -> dict[str, str]:
    """Keys of the other job commands that `command` lacks -> the first command having it."""
    own = jobspec.keys_of(subparser(parser, command))
    out: dict[str, str] = {}
    for name in JOB_COMMANDS:
        if name != command:
            for key in jobspec.keys_of(subparser(parser, name)):
                if key not in own:
                    out.setdefault(key, name)
    return out


def load(path: str | Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The file's top-level mapping and the line of each key; a YAML error, a repeated key or
    anything but a mapping of keys stops with the file and line."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read job file {path}: {exc.strerror or exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{path.name}{where}: {problem}") from None
    if node is None:
        return {}, {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        raise ConfigError(f"{path.name} line {node.start_mark.line + 1}: a job file is a "
                          "mapping of option names to values (e.g. `workers: 8`)")  # fmt: skip
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        name, line = str(key_node.value), key_node.start_mark.line + 1
        if name in lines:
            raise ConfigError(f"{path.name} line {line}: {name!r} is given twice (first on "
                              f"line {lines[name]})")  # fmt: skip
        lines[name] = line
    return {str(k): v for k, v in data.items()}, lines


def given_dests(
    argv: Sequence[str] | None, build: Callable[[], argparse.ArgumentParser]
) -> set[str]:
    """The dests the command line sets explicitly (a fresh parser read with no defaults)."""
    parser = build()
    for p in (parser, *_subparsers(parser)):
        for action in p._actions:
            if action.option_strings:
                action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def apply(args: argparse.Namespace, argv: Sequence[str] | None,
          build: Callable[[], argparse.ArgumentParser],
          environ: Mapping[str, str] | None = None) -> argparse.Namespace:  # fmt: skip
    """`args` with the job file's values where the command line gave none; `build` makes
    the `sluice` parser (`main.build_parser`)."""
    environ = os.environ if environ is None else environ
    parser = build()
    sub = subparser(parser, args.command)
    values, lines = load(args.config)
    name = Path(args.config).name
    keys = jobspec.keys_of(sub)
    elsewhere = other_keys(parser, args.command)
    for key in values:
        if key not in keys and key in elsewhere:
            log.info("%s line %d: %r is an option of sluice %s, not of sluice %s: not used here",
                     name, lines[key], key, elsewhere[key], args.command)  # fmt: skip
    read = jobspec.read(values, keys, args.command, lambda k: f"{name} line {lines[k]}",
                        environ, elsewhere)  # fmt: skip
    explicit = given_dests(argv, build)
    for dest, value in read.items():
        if dest in explicit:
            continue
        env = ENVIRONMENT.get(dest)
        if env and environ.get(env):
            log.info("%s: $%s overrides %s line %d", dest, env, name, lines[dest])
            continue
        setattr(args, dest, value)
    return args


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [p for a in parser._actions if isinstance(a, argparse._SubParsersAction)
            for p in a.choices.values()]  # fmt: skip
