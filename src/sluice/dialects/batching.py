"""Rows grouped for writers that must group them (multi-row INSERTs), bounded in bytes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def batched_by_bytes(rows: Iterable[tuple], max_rows: int, max_bytes: int) -> Iterator[list]:
    """Lists of rows cut at `max_rows` or about `max_bytes` of payload, whichever comes first.

    Writers that must group rows (multi-row INSERTs) use this, so a group of wide rows never
    holds more than the memory cap planned for one batch."""
    group: list = []
    size = 0
    for row in rows:
        group.append(row)
        size += 16 * len(row) + sum(len(v) for v in row if isinstance(v, (str, bytes)))
        if len(group) >= max_rows or size >= max_bytes:
            yield group
            group, size = [], 0
    if group:
        yield group
