"""Copying a database: reflect the source, plan, copy chunks through a byte-bounded buffer,
publish staging tables atomically, finish (identities, foreign keys).

Modules: reflect, plan (the serialisable Plan), buffer (the memory budget), memory (allocator),
transfer (one chunk: reader -> channel -> bulk writer), staging, publish, finish, snapshot
(one consistent source view), stalls (the stall watchdog over statements), retried (publish
and finish under the retry policy), objects (views and sequences), not_carried (the plan's
last section: what the copy does not create, with its source DDL), statistics (what the plan
reads after the catalog), run (`copy_database`, which chains the stages); filters (the
`--where` row filters and the columns left out or masked) and masks (what a mask does).
May import: sluice.state, sluice.datasets, sluice.dialects, sluice.core.
"""

from sluice.copy.not_carried import NotCarriedError, refuse_not_carried
from sluice.copy.run import (
    DEFAULT_MEMORY_CAP,
    CopyOptions,
    CopyResult,
    TableSummary,
    check_lossy,
    check_zero_dates,
    copy_database,
    run_plan,
)

__all__ = [
    "DEFAULT_MEMORY_CAP",
    "CopyOptions",
    "CopyResult",
    "TableSummary",
    "check_lossy",
    "check_zero_dates",
    "copy_database",
    "refuse_not_carried",
    "NotCarriedError",
    "run_plan",
]
