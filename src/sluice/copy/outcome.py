"""What the target holds after a copy that stopped, in one line for a person (ADR 0021):
which tables are complete (published with their identity aligned and their keys made), which
were published but not finished (a key the target refused while the run's finish step could
not run), and which are untouched (the previous state kept)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def names(tables: Iterable[str], most: int = 6) -> str:
    shown = list(tables)
    more = len(shown) - most
    return ", ".join(shown[:most]) + (f" and {more} more" if more > 0 else "")


def sorted_out(summaries: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(complete, published but not finished, untouched) table names, in plan order."""
    done = [t.name for t in summaries.values() if t.published and t.finished]
    unfinished = [t.name for t in summaries.values() if t.published and not t.finished]
    untouched = [t.name for t in summaries.values() if not t.published]
    return done, unfinished, untouched


def target_state(summaries: Mapping[str, Any], staging_dropped: bool, kept: bool = False) -> str:
    """Untouched, or which tables this run published complete and which it left as they were
    (a swap is all or nothing)."""
    staging = ("staging dropped" if staging_dropped else
               "staging tables left behind (the next run drops them)")  # fmt: skip
    if kept:
        staging = "staging tables kept (`sluice copy --resume` continues from them)"
    done, unfinished, untouched = sorted_out(summaries)
    if not done and not unfinished:
        return f"untouched (no table replaced; {staging})"
    parts = []
    if done:
        parts.append(f"{len(done)} of {len(summaries)} table(s) published and complete "
                     f"({names(done)})")  # fmt: skip
    if unfinished:
        parts.append(f"{len(unfinished)} of {len(summaries)} table(s) published but not "
                     f"finished ({names(unfinished)}: the next copy finishes them)")  # fmt: skip
    parts.append(f"{len(untouched)} unchanged" + (f" ({names(untouched)})" if untouched else ""))
    return ", ".join(parts) + f"; {staging}"
