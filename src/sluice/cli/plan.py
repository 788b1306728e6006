"""The `plan` command: how a copy would run, printed for people or as JSON."""

from __future__ import annotations

import argparse
import sys

from sluice.cli.not_carried import add_fail_option, print_not_carried
from sluice.cli.options import (
    add_chunk_options,
    add_endpoints,
    command,
    endpoints,
    exclude_list,
    print_endpoints,
    print_objects,
    print_skipped,
    scope_settings,
    table_list,
)


def cmd_plan(args: argparse.Namespace) -> int:
    from sluice.copy.not_carried import refuse_not_carried
    from sluice.copy.plan import build_plan
    from sluice.copy.refusals import Selection

    source, target = endpoints(args)
    selection = Selection(exclude_list(args.exclude_tables), args.skip_refused,
                          args.carry_as_text, args.allow_lossy, enums=args.enums,
                          collations=args.collations, **scope_settings(args))  # fmt: skip
    plan = build_plan(
        source, target, tables=table_list(args.tables),
        chunk_rows=args.chunk_rows, chunk_bytes=args.chunk_size, allow_empty=args.allow_empty,
        selection=selection,
    )  # fmt: skip
    if args.json:
        print(plan.to_json())
    else:
        print_plan(plan)
    # after printing it: the plan is where each item is seen
    refuse_not_carried(plan, args.fail_on_not_carried, "the plan above lists each with its "
                       "reason and source DDL")  # fmt: skip
    return 0


def print_plan(plan, file=None, width: int | None = None) -> None:
    """The plan as tables that fit the terminal (80 columns when not a terminal)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as Grid

    console = Console(file=file or sys.stdout, width=width)
    console.print("[bold]plan")
    print_endpoints(console, plan.source, plan.target)
    order = Grid(title="tables, in copy order")
    for col in ("#", "table", "~rows", "key", "identity", "chunks", "path"):
        order.add_column(col, justify="right" if col in ("#", "~rows", "chunks") else "left")
    for i, t in enumerate(plan.tables, 1):
        ident = t.table.identity.name if t.table.identity else "-"
        path = "decoded, masked" if t.masks else "decoded"
        if t.passthrough:
            path = {"csv": "raw CSV -> LOAD DATA", "postgresql-text": "raw COPY passthrough (text)",
                    "postgresql-csv": "rows as CSV -> COPY"}  # fmt: skip
            path = path.get(t.raw_format, "raw COPY passthrough")
        key = ", ".join(t.key) or "(none)"
        lands = t.name if t.target_key == t.name else f"{t.name} -> {t.target_key}"  # mapped
        order.add_row(str(i), escape(lands), f"{t.rows:,}", key, ident, str(len(t.chunks)), path)
    console.print(order)
    cols = Grid(title="columns: source type -> target type")
    # one heading row per table instead of a table column: the rest fits 80 columns, and
    # names never break mid-word (types and notes wrap between words)
    for col in ("column", "source", "target", "cast", "note"):
        cols.add_column(col, no_wrap=col in ("column", "cast"))
    from sluice.dialects import get_dialect

    src, dst = get_dialect(plan.source_engine), get_dialect(plan.target_engine)
    for t in plan.tables:
        cols.add_row(f"[bold]{escape(t.name)}", end_section=False)
        for c in t.columns:
            flag = {"lossy": "[red]lossy", "widening": "[yellow]widening"}.get(c.fidelity, "exact")
            source_type, target_type = c.source_type, c.target_type
            if (col := t.table.column(c.name)).identity:  # a serial is its own pseudo-type
                kind = col.identity_kind
                source_type += f" {src.identity_clause(kind) or kind.upper()}".rstrip()
                target_type += f" {dst.identity_clause(kind) or kind.upper()}".rstrip()
            name = (
                c.name
                if t.target_column(c.name) == c.name
                else (f"{c.name} -> {t.target_column(c.name)}")
            )  # --identifiers
            note = "; ".join(
                [c.note] * bool(c.note)
                + [f"masked: {how}" for masked, how in t.masks if masked == c.name]
            )
            cols.add_row(f"  {escape(name)}", escape(source_type), escape(target_type), flag,
                         escape(note))  # fmt: skip
    console.print(cols)
    for fk in plan.foreign_keys:
        name = plan.target_foreign_key(fk).name
        console.print(f"foreign key (created after the data): {name}", soft_wrap=True)
    for note in plan.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    print_skipped(console, plan.skipped)
    print_objects(console, plan.views, plan.sequences)
    print_not_carried(console, plan.not_carried)  # the last section (issue 26)


def register(sub: argparse._SubParsersAction) -> None:
    plan = command(
        sub,
        "plan",
        cmd_plan,
        "show how a copy would run: table order, type mapping, keys, identities, chunks",
        "sluice plan --source mssql+pymssql://sa@db/StackOverflow2010 --target postgresql://pg/so",
    )
    add_endpoints(plan)
    add_chunk_options(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    add_fail_option(plan)
    plan.add_argument("--allow-lossy", action="store_true",
                      help="with --skip-refused: keep tables with lossy mappings (as copy "
                           "--allow-lossy would); else they are listed as skipped")  # fmt: skip
