"""A command's options as a job: keys and values (a job file, a DAG run's params) checked
against the command's own argparse parser, so an option added to a command is a key of its
jobs with no change here (docs/selection.md "Job files", ADR 0019).

A key is the option's `dest` (`--exclude-tables` -> `exclude_tables`). A value is what the
flag would take: a scalar, converted and checked by the flag's own type and choices; true or
false for a switch; a list for a comma-separated (`A,B`) or repeatable option; a mapping for
an option whose values are `KEY=VALUE` (`schema_map: {dbo: public}`). `${NAME}` in a text
value is the environment variable NAME, so a password need not be written in the file; an
error never shows an expanded value. Every problem is reported at once, each with where it was
written (`job.yaml line 7`) and a suggestion for a misspelt key.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sluice.core.errors import ConfigError

# a metavar naming a pair: KEY=VALUE, 'TABLE: CONDITION'
PAIR = re.compile(r"^[^=:\s]+(\s*[=:]\s*)[^=:]+$")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# dests every command has that are not options a job can set
NOT_KEYS = frozenset({"help", "config", "func", "command", "version", "verbose"})


@dataclass(frozen=True)
class Key:
    """One option as a job key: its dest, the flag it stands for, and how values are read."""

    name: str
    flag: str
    action: argparse.Action

    @property
    def switch(self) -> bool:
        """A flag without a value (store_true/store_false): the key takes true or false."""
        return self.action.nargs == 0

    @property
    def repeatable(self) -> bool:
        return isinstance(self.action, argparse._AppendAction) or self.action.nargs in ("*", "+")

    @property
    def separator(self) -> str | None:
        """What joins a pair where the option's values are pairs, as its metavar writes it:
        '=' (`SRC=DST`, `T.C=HOW`) or ': ' (`'TABLE: CONDITION'`); None for other options."""
        metavar = self.action.metavar if isinstance(self.action.metavar, str) else ""
        m = PAIR.match(metavar.strip("'\""))
        return m.group(1) if m else None

    @property
    def commas(self) -> bool:
        """A comma-separated option (`--tables A,B`): a list becomes one joined value."""
        metavar = self.action.metavar if isinstance(self.action.metavar, str) else ""
        return "," in metavar

    @property
    def kind(self) -> str:
        """What the key takes, for the documentation and error messages."""
        if self.switch:
            return "true or false"
        if self.separator:
            return "a mapping (or a list of KEY" + self.separator + "VALUE)"
        if self.repeatable or self.commas:
            return "a list (or one value)"
        if self.action.choices:
            return "one of " + ", ".join(map(str, self.action.choices))
        return "a value"


def keys_of(parser: argparse.ArgumentParser) -> dict[str, Key]:
    """The job keys of a command's parser: each option's dest, in the parser's order."""
    keys = {}
    for action in parser._actions:
        if not action.option_strings or action.dest in NOT_KEYS:
            continue
        if action.dest is argparse.SUPPRESS:
            continue
        long = [s for s in action.option_strings if s.startswith("--")]
        keys.setdefault(action.dest, Key(action.dest, (long or action.option_strings)[0], action))
    return keys


def expand_env(text: str, environ: Mapping[str, str]) -> str:
    """`${NAME}` -> the environment variable NAME; a missing one is an error naming it."""

    def value(m: re.Match) -> str:
        if m.group(1) not in environ:
            raise KeyError(m.group(1))
        return environ[m.group(1)]

    return ENV_REF.sub(value, text)


def suggest(name: str, known: Sequence[str]) -> str:
    """' (did you mean 'workers'?)' for a misspelt key, else ''."""
    close = difflib.get_close_matches(name.replace("-", "_"), known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Problems:
    """Every problem found, each prefixed with where its key was written."""

    def __init__(self, where: Callable[[str], str]) -> None:
        self.where = where
        self.lines: list[str] = []

    def add(self, key: str, text: str) -> None:
        self.lines.append(f"{self.where(key)}: {text}")

    def raise_any(self) -> None:
        if self.lines:
            raise ConfigError("; ".join(self.lines))


def read(values: Mapping[str, Any], keys: Mapping[str, Key], command: str,
         where: Callable[[str], str], environ: Mapping[str, str] | None = None,
         elsewhere: Mapping[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """`values` as the dest -> value the command's parser would give for the same flags.

    `where(key)` says where a key was written (`job.yaml line 7`); `elsewhere` maps keys that
    belong to other commands (left out here, not errors) to those commands' names. Raises one
    ConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    problems = Problems(where)
    out: dict[str, Any] = {}
    for name, raw in values.items():
        name = str(name)
        key = keys.get(name)
        if key is None:
            if elsewhere and name in elsewhere:
                continue
            hint = suggest(name, list(keys)) or suggest(name, list(elsewhere or ()))
            problems.add(name, f"{name!r} is not an option of sluice {command}{hint}")
            continue
        if raw is None:  # `key:` with no value: the command's default
            continue
        try:
            out[name] = _convert(key, raw, environ)
        except _Bad as exc:
            problems.add(name, f"{name}: {exc}")
    problems.raise_any()
    return out


class _Bad(Exception):
    """One value the key cannot take (the message never holds an expanded secret)."""


def _convert(key: Key, raw: Any, environ: Mapping[str, str]) -> Any:
    if key.switch:
        if not isinstance(raw, bool):
            raise _Bad(f"takes true or false (the flag {key.flag}), got {_shown(raw)}")
        if isinstance(key.action.const, bool):  # store_true, store_false
            return raw if key.action.const else not raw
        return key.action.const if raw else key.action.default
    if key.separator:
        items = _pairs(key, raw)
    elif isinstance(raw, (list, tuple)):
        if not (key.repeatable or key.commas):
            raise _Bad(f"takes one value (the flag {key.flag}), got a list")
        items = [_scalar(key, v) for v in raw]
    else:
        items = [_scalar(key, raw)]
    if len(items) > 1 and not (key.repeatable or key.commas):
        raise _Bad(f"takes one value (the flag {key.flag}), got {len(items)}")
    texts = [_expand(key, item, environ) for item in items]
    if key.commas and not key.repeatable:  # one value, comma-joined, as on the command line
        return _typed(key, ",".join(texts), ",".join(items))
    converted = [_typed(key, text, written) for text, written in zip(texts, items)]
    return converted if key.repeatable else converted[0]


def _pairs(key: Key, raw: Any) -> list[str]:
    sep = key.separator
    if isinstance(raw, Mapping):
        return [f"{_scalar(key, k)}{sep}{'' if v is None else _scalar(key, v)}"
                for k, v in raw.items()]  # fmt: skip
    seq = raw if isinstance(raw, (list, tuple)) else [raw]
    return [_scalar(key, v) for v in seq]


def _scalar(key: Key, value: Any) -> str:
    if isinstance(value, bool):  # YAML reads yes/no/on/off as booleans
        raise _Bad(f"takes text here (the flag {key.flag}), got {_shown(value)}: quote it")
    if isinstance(value, (Mapping, list, tuple)):
        raise _Bad(f"takes {key.kind} (the flag {key.flag}), got a "
                   f"{'mapping' if isinstance(value, Mapping) else 'list'}")  # fmt: skip
    return str(value)


def _expand(key: Key, text: str, environ: Mapping[str, str]) -> str:
    try:
        return expand_env(text, environ)
    except KeyError as exc:
        raise _Bad(f"the environment variable {exc.args[0]} is not set") from None


def _typed(key: Key, text: str, written: str) -> Any:
    """The flag's own conversion and choices; an error shows the value as written."""
    value: Any = text
    if callable(key.action.type):
        try:
            value = key.action.type(text)
        except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
            detail = str(exc) if written == text else "not a valid value"
            shown = "" if written == text else f" ({written} as expanded)"
            raise _Bad(f"{detail}{shown} (the flag {key.flag})") from None
    choices = key.action.choices
    if choices is not None and value not in choices:
        raise _Bad(f"must be one of {', '.join(map(str, choices))}, got {_shown(written)}")
    return value


def _shown(value: Any) -> str:
    return repr(value) if not isinstance(value, bool) else str(value).lower()
