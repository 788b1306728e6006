"""Names and shapes of the staging tables data lands in before it is published."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sluice.core.schema import Table
from sluice.dialects.base import Dialect

PREFIX = "_sluice_stage_"
SYNC_PREFIX = "_sluice_sync_"


def _short(prefix: str, name: str, limit: int) -> str:
    full = prefix + name
    if len(full) <= limit:
        return full
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return full[: limit - 9] + "_" + digest


def staging_name(dialect: Dialect, table: str) -> str:
    return _short(PREFIX, table, dialect.caps.max_identifier_length)


def temp_name(dialect: Dialect, kind: str, name: str) -> str:
    """A constraint/index name for the staging table that cannot clash with the live one's."""
    return _short(f"_sluice_{kind}_", name, dialect.caps.max_identifier_length)


def staging_table(dialect: Dialect, table: Table) -> Table:
    """The target-side twin of `table` (in its target schema: `TablePlan.target`) that chunks
    are written into, in the same schema: a swap is a rename within it. A partitioned
    table's partitions get staging names too (the swap gives them the source's)."""
    pk_name = table.primary_key_name or f"PK_{table.name}"
    parts = table.partitioning
    if parts is not None:
        parts = parts.renamed(lambda n: temp_name(dialect, "part", n))
    return replace(
        table,
        name=staging_name(dialect, table.name),
        schema=table.schema or dialect.caps.default_schema,
        primary_key_name=temp_name(dialect, "pk", pk_name),
        foreign_keys=(),
        indexes=(),
        partitioning=parts,
    )


def sync_staging_table(dialect: Dialect, table: Table) -> Table:
    """Where a sync lands changed rows before one set-based upsert into the live table; its
    own name, so a sync never touches the staging table of a copy; never partitioned (the
    upsert into the live table routes its rows)."""
    return replace(
        staging_table(dialect, table),
        name=_short(SYNC_PREFIX, table.name, dialect.caps.max_identifier_length),
        partitioning=None,
        inherits=(),
    )


def live_table(dialect: Dialect, table: Table) -> Table:
    """`table` (in its target schema: `TablePlan.target`) as the target names it."""
    return replace(table, schema=table.schema or dialect.caps.default_schema)
