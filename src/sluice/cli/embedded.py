"""The `embedded` command: start, stop or locate the embedded PostgreSQL."""

from __future__ import annotations

import argparse
import sys

from sluice.cli.options import command
from sluice.core import embedded


def cmd_embedded(args: argparse.Namespace) -> int:
    if args.action == "start":
        print(embedded.start())
    elif args.action == "stop":
        print("stopped" if embedded.stop() else "not running")
    elif args.action == "url":
        url = embedded.url()
        if url is None:
            print("not running", file=sys.stderr)
            return 1
        print(url.with_database(args.database) if args.database else url)
    else:  # status
        url = embedded.url()
        print(f"running: {url}" if url else f"not running (data in {embedded.data_dir()})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    emb = command(
        sub,
        "embedded",
        cmd_embedded,
        "start, stop or locate the embedded PostgreSQL used when no URL is given",
        "sluice embedded start && sluice embedded url --database stackoverflow_source",
    )
    emb.add_argument("action", choices=["start", "stop", "status", "url"],
                     help="start it, stop it, say whether it runs, or print its URL")  # fmt: skip
    emb.add_argument("--database", help="with `url`: the URL of this database")
