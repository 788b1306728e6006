"""Publish and finish under the chunks' retry policy (`transfer.retrying`): a lost
connection or a server restarting while a table is published or the copy finished is
retried within the same retry deadline and backoff, from a committed point.

Both are safe to run again. A publish is one transaction (the swap) after building keys
on a staging table only this run writes: a try that failed before the swap left the live
table as it was (the next goes on after the key and index statements that committed), and
one whose swap committed before its connection was lost left no staging table, which the
next try recognises as done (`publish_table(earlier=...)`).
Finish sets identities to max(key) + 1 (the same again) and skips the foreign keys an
earlier try added."""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import Any

from sluice.copy.finish import FinishResult, finish
from sluice.copy.plan import Plan
from sluice.copy.publish import DEFAULT_LOCK_TIMEOUT, PublishResult, publish_table
from sluice.copy.transfer import TransferOptions, retrying
from sluice.core import metrics
from sluice.core.interrupt import Cancel
from sluice.core.urls import DbUrl


def publish_retried(
    plan: Plan,
    name: str,
    target: DbUrl,
    policy: TransferOptions,
    rows: int | None = None,
    swap_lock: AbstractContextManager | None = None,
    cancel: Cancel | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    on_swap: Callable[[Any, int], None] | None = None,
) -> PublishResult:
    """`publish_table`, its retryable failures retried by `policy` (a chunk's)."""
    earlier: dict = {}  # what the tries got done (`publish_table`)

    def once() -> PublishResult:
        return publish_table(plan, name, target, rows, swap_lock, cancel, lock_timeout,
                             on_swap, earlier)  # fmt: skip

    labels = metrics.table_labels(plan.source_engine, target, plan.table(name).target)
    return retrying(f"{name}: publish", once, policy.retries, policy.backoff, cancel,
                    policy.retry_deadline, labels)[0]  # fmt: skip


def finish_retried(
    plan: Plan,
    target: DbUrl,
    policy: TransferOptions,
    published: Collection[str] | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> FinishResult:
    """`finish`, its retryable failures retried by `policy`; never cut short by a cancel
    (the published tables are finished on the way out of a stopped run too)."""
    added: dict[str, int] = {}

    def once() -> FinishResult:
        return finish(plan, target, published, lock_timeout, added)

    return retrying("finish", once, policy.retries, policy.backoff, None, policy.retry_deadline,
                    metrics.run_labels(plan.source_engine, target))[0]  # fmt: skip
