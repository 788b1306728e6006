"""Which raw byte format a table moves in between two engines, if any (ADRs 0008 and 0028).

Bytes pass through without a Python value per field when both engines share a format (COPY
binary between PostgreSQL servers), or when the source renders the target's import format
exactly for every column's kind (PostgreSQL's CSV into MySQL's LOAD DATA, MySQL's rendered
rows into PostgreSQL's COPY): the target must parse each kind to what the decoded path
stores, and the source must render it as the decoded path reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.core.schema import Table
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect


def raw_import_possible(source: DbUrl, target: DbUrl) -> bool:
    """Whether the source can emit the target's raw import format and the target takes it
    (a server setting may forbid it): asked once per plan."""
    src, dst = get_dialect(source.engine), get_dialect(target.engine)
    return dst.raw_import_format in src.raw_export_formats and dst.raw_import_ready(target)


def table_raw_format(
    src: Any, dst: Any, table: Table, maps: Sequence[Any], raw_import: bool
) -> str:
    """The raw byte format `table` can move in, or "" when its values must be decoded; `maps`
    are its column mappings (a lossy cast the user allowed stays decoded)."""
    same_format = src.raw_copy_format is not None and src.raw_copy_format == dst.raw_copy_format
    if same_format and all(dst.same_type(m.source_type, m.target_type) for m in maps):
        return src.raw_copy_format_for(table)
    fmt = dst.raw_import_format
    if not raw_import or any(m.fidelity == "lossy" for m in maps):
        return ""
    exported = src.raw_export_kinds.get(fmt)  # None: the source renders every kind exactly
    for c in table.columns:
        if c.type.kind not in dst.raw_import_kinds or (
            exported is not None and c.type.kind not in exported
        ):
            return ""
    return fmt
