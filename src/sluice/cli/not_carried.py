"""The "not carried" section of `sluice plan` and the copy's summary (issue 26): what the copy
does not create, each with its reason and its source DDL, and `--fail-on-not-carried`.

The section is a SQL script a person can read and run: each item is a comment line (kind,
key, reason) followed by its DDL, ended with `;`. On the source's engine most of it runs as
is (MariaDB's routines and triggers need the client's DELIMITER around them); `sluice plan
--json` holds the same items as data (`not_carried`: kind, key, reason, ddl)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

FAIL_HELP = ("stop before any table is touched (exit 1) when the plan lists anything the copy "
             "would not create: triggers, routines, rules, policies, grants, events, views, "
             "... (`sluice plan` lists each with its source DDL)")  # fmt: skip


def add_fail_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fail-on-not-carried", action="store_true", help=FAIL_HELP)


def print_not_carried(console, items: Sequence) -> None:
    """The plan's last section: a heading with the count, then each item as a comment line
    and its whole DDL (never cut: it is what a person ports)."""
    from sluice.copy.not_carried import counts

    def say(text: str = "") -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    if not items:
        say("not carried: nothing (every object of the selection is created on the target)")
        return
    say(f"not carried: {len(items)} item(s) the copy does not create ({counts(items)}); "
        "port them by hand from the source DDL below (`--json`: the same as data)")  # fmt: skip
    for item in items:
        say()
        say(f"-- {item.kind} {item.key}: {item.reason}")
        if item.ddl:
            ddl = item.ddl.rstrip()
            say(ddl if ddl.endswith(";") or ddl.lstrip().startswith("--") else ddl + ";")


def summary_line(items: Sequence) -> str:
    """The copy summary's line: how many items were not carried and where to see them."""
    from sluice.copy.not_carried import counts

    if not items:
        return ""
    return (f"not carried: {len(items)} item(s) the copy does not create ({counts(items)}); "
            "`sluice plan` with the same options lists each with its source DDL, the copy's "
            "--json summary too")  # fmt: skip


def not_carried_dicts(items: Sequence) -> list[dict]:
    return [{"kind": i.kind, "key": i.key, "reason": i.reason, "ddl": i.ddl} for i in items]
