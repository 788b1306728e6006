"""A metrics sink that keeps every figure the engine records (`sluice.core.metrics`): what a
monitoring system would be told, for a test to read back without one."""

from __future__ import annotations


class Recorded:
    def __init__(self) -> None:
        self.seen: list[tuple[str, float, dict]] = []

    def record(self, metric, value, labels) -> None:
        self.seen.append((metric.name, value, dict(labels)))

    def values(self, name: str) -> list[tuple[float, dict]]:
        """(value, labels) of each figure of the metric `name`, in the order recorded."""
        return [(v, labels) for n, v, labels in self.seen if n == name]
