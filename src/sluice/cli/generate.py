"""The `generate` command: a dataset's schema filled with deterministic, realistic rows."""

from __future__ import annotations

import argparse

from sluice.cli.options import (
    DEFAULT_DATABASE,
    TARGET_HELP,
    command,
    print_counts,
    resolve_url,
    scale,
    table_list,
)


def cmd_generate(args: argparse.Namespace) -> int:
    from sluice.core.progress import Reporter
    from sluice.datasets.loader import count_rows
    from sluice.datasets.stackoverflow import TABLES
    from sluice.datasets.stackoverflow.generate import generate, row_counts

    row_counts(args.scale)  # validate before touching any database
    target = resolve_url(args.target, "SLUICE_TARGET_URL", DEFAULT_DATABASE)
    with Reporter() as reporter:
        results = generate(
            target,
            args.scale,
            seed=args.seed,
            tables=table_list(args.tables),
            replace=args.replace,
            reporter=reporter,
        )
    print_counts(target, count_rows(target, [TABLES[r.table] for r in results]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    gen = command(
        sub,
        "generate",
        cmd_generate,
        "create a dataset's schema and fill it with deterministic, realistic rows",
        "sluice generate stackoverflow --scale 0.01 --target postgresql://postgres@127.0.0.1/so",
    )
    gen.add_argument("dataset", choices=["stackoverflow"], help="the dataset to generate")
    gen.add_argument("--target", help=TARGET_HELP)
    gen.add_argument("--scale", type=scale, default=0.01, help="1.0 = StackOverflow2010 row counts")
    gen.add_argument("--seed", type=int, default=2010, help="same seed, same rows (default 2010)")
    gen.add_argument("--tables", help="comma-separated subset, e.g. Users,Posts")
    gen.add_argument("--replace", action="store_true", help="drop and recreate existing tables")
