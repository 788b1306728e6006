"""The `import-dump` command: a Stack Exchange data dump loaded into the dataset's schema."""

from __future__ import annotations

import argparse

from sluice.cli.options import (
    DEFAULT_DATABASE,
    TARGET_HELP,
    command,
    print_counts,
    resolve_url,
    table_list,
)


def cmd_import_dump(args: argparse.Namespace) -> int:
    from sluice.core.progress import Reporter
    from sluice.datasets.loader import count_rows
    from sluice.datasets.stackoverflow import TABLES
    from sluice.datasets.stackoverflow.dump import import_dump

    target = resolve_url(args.target, "SLUICE_TARGET_URL", DEFAULT_DATABASE)
    with Reporter() as reporter:
        results = import_dump(
            args.directory,
            target,
            tables=table_list(args.tables),
            replace=args.replace,
            reporter=reporter,
        )
    print_counts(target, count_rows(target, [TABLES[r.table] for r in results]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    imp = command(
        sub,
        "import-dump",
        cmd_import_dump,
        "load a Stack Exchange data dump (Posts.xml, Users.xml, ...) into the schema",
        "sluice import-dump ./dba.stackexchange.com --target postgresql://postgres@127.0.0.1/dba",
    )
    imp.add_argument("directory", help="folder holding the dump's XML files")
    imp.add_argument("--target", help=TARGET_HELP)
    imp.add_argument("--tables", help="comma-separated subset, e.g. Users,Posts")
    imp.add_argument("--replace", action="store_true", help="drop and recreate existing tables")
