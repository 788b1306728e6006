"""A DAG run's params read as a job of a command (the keys of its job files, checked by the
same code: cli/jobfile.py, core/jobspec.py) and turned into the library options that command
builds from the same flags. For the DAG file, which composes the CLI's reading with the
`sluice.airflow` tasks (that layer cannot import this one: ADR 0019). Called when a task
runs, never when a DAG file is parsed."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from sluice.cli.jobfile import other_keys, subparser
from sluice.cli.main import build_parser
from sluice.core import jobspec
from sluice.core.errors import ConfigError


def job_namespace(command: str, params: Mapping[str, Any], where: str = "params",
                  refused: Mapping[str, str] | None = None,
                  environ: Mapping[str, str] | None = None) -> argparse.Namespace:  # fmt: skip
    """`params` (a DAG run's) read as a job of `command`: the namespace its parser would give.
    `refused` names keys the caller sets itself, each with what to use instead; a key of
    another job command is left out."""
    parser = build_parser()
    sub = subparser(parser, command)
    problems = jobspec.Problems(lambda k: where)
    for key, instead in (refused or {}).items():
        if params.get(key) not in (None, "", [], {}):
            problems.add(key, f"{key!r} is not a param here: {instead}")
    problems.raise_any()
    values = {k: v for k, v in params.items() if k not in (refused or {})}
    read = jobspec.read(values, jobspec.keys_of(sub), command, lambda k: where,
                        environ, other_keys(parser, command))  # fmt: skip
    args = sub.parse_args([])  # the command's defaults, converted as its flags would be
    for dest, value in read.items():
        setattr(args, dest, value)
    return args


def job_options(command: str, params: Mapping[str, Any], where: str = "params",
                refused: Mapping[str, str] | None = None) -> Any:  # fmt: skip
    """A DAG run's params as the library options the CLI command builds from the same flags:
    CopyOptions (copy), VerifyOptions (verify), SyncOptions (sync); validated."""
    args = job_namespace(command, params, where, refused)
    if command == "copy":
        from sluice.cli.copy import copy_options

        options = copy_options(args)
    elif command == "verify":
        from sluice.cli.verify import verify_options

        options = verify_options(args, args.workers)
    elif command == "sync":
        from sluice.cli.sync import sync_options

        options = sync_options(args)
    else:
        raise ConfigError(f"no library options for sluice {command}")
    options.validate()
    return options
