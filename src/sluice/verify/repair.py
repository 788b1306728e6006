"""Repair a replica: re-copy only the key ranges verification found different.

A range is re-copied straight into the live table through the same chunk path as a
copy: one transaction deletes the target's rows in the range and loads the source's,
so readers see the old range or the new one, never a mix. Identities are aligned
again afterwards, and the repaired ranges are verified once more.

A table missing from the target cannot be repaired by range: `sluice copy` creates it.
Deleting a range of a table that other tables reference through declared foreign keys
fails on engines that check them per statement; the error names the table and range
and `sluice copy --tables T` is the way out.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sluice.copy import CopyOptions
from sluice.copy.buffer import ByteBudget
from sluice.copy.finish import align_identities
from sluice.copy.plan import Chunk, Plan
from sluice.copy.staging import live_table
from sluice.copy.transfer import TransferOptions, copy_chunk
from sluice.core import metrics
from sluice.core.errors import ConfigError
from sluice.core.hostile import NulPolicy
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, VerifyReport, verify_plan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepairResult:
    ranges: int  # ranges re-copied
    rows: int  # rows the repaired ranges hold now
    after: VerifyReport  # the repaired ranges verified again


def repair(
    plan: Plan,
    report: VerifyReport,
    source: DbUrl,
    target: DbUrl,
    copy: CopyOptions = CopyOptions(),
    verify: VerifyOptions = VerifyOptions(),
) -> RepairResult:
    """Re-copy every mismatching range of `report` (made from `plan`) and verify them again."""
    broken = [t.name for t in report.tables if t.error]
    if broken:
        raise ConfigError(
            f"cannot repair by range: {', '.join(broken)} missing in the target; "
            f"run sluice copy --tables {','.join(broken)}"
        )
    todo: dict[str, list[Chunk]] = {
        t.name: [r.chunk for r in t.mismatches] for t in report.tables if t.mismatches
    }
    work = [(plan.table(name), chunk) for name, chunks in todo.items() for chunk in chunks]
    if not work:
        return RepairResult(0, 0, report)
    dst = get_dialect(target.engine)
    decoded = any(not tp.passthrough for tp, _ in work)
    transfer, channels = TransferOptions.for_budget(
        copy.memory_cap,
        copy.workers,
        decoded,
        batch_rows=copy.batch_rows,
        retries=copy.retries,
        retry_deadline=copy.retry_deadline,
        nul=NulPolicy(copy.nul, copy.nul_replacement),  # a repair changes what the copy did
    )
    budget = ByteBudget(channels, metrics.run_labels(source, target))

    def run(item) -> None:
        tp, chunk = item
        log.info("repairing %s", chunk.label)
        copy_chunk(tp, chunk, source, target, budget, transfer, into=live_table(dst, tp.target))

    with ThreadPoolExecutor(max_workers=copy.workers, thread_name_prefix="repair") as pool:
        list(pool.map(run, work))
    conn = dst.connect(target)
    try:
        align_identities(dst, conn, [plan.table(name) for name in todo])
    finally:
        conn.close()
    after = verify_plan(plan, source, target, verify, only=todo)
    rows = sum(r.target.rows for t in after.tables for r in t.ranges)
    return RepairResult(len(work), rows, after)
