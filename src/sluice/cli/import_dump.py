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
            keep_extra_columns=args.keep_extra_columns,
            reporter=reporter,
        )
    print_counts(target, count_rows(target, [TABLES[r.table] for r in results]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    imp = command(
        sub,
        "import-dump",
        cmd_import_dump,
        "load a Stack Exchange data dump (Posts.xml, Users.xml, ...) into the schema, from its "
        "folder or straight from its .7z archive(s)",
        "sluice import-dump ./dba.stackexchange.com.7z --target postgresql://postgres@127.0.0.1/dba",
    )
    imp.add_argument(
        "directory",
        metavar="dump",
        help="a folder of the XML files, a folder of per-table .7z files "
        "(stackoverflow.com-Posts.7z, ...), or a site's .7z; archives are read without unpacking",
    )
    imp.add_argument("--target", help=TARGET_HELP)
    imp.add_argument("--tables", help="comma-separated subset, e.g. Users,Posts")
    imp.add_argument("--replace", action="store_true", help="drop and recreate existing tables")
    imp.add_argument(
        "--keep-extra-columns",
        action="store_true",
        help="keep attributes the schema has no column for (ContentLicense, Badges.Class, ...) "
        "as nullable columns; reads each file once more first to find them",
    )
