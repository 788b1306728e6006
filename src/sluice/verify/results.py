"""What a verification found: per range, per table and for the whole run, each able to say
itself as plain data (`to_dict`) for the reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sluice.copy.plan import Chunk, Plan
from sluice.copy.refusals import Skipped
from sluice.verify.canonical import RangeDigest
from sluice.verify.quality import CheckResult


@dataclass
class RangeResult:
    chunk: Chunk
    source: RangeDigest
    target: RangeDigest
    missing: list = field(default_factory=list)  # keys in the source only
    extra: list = field(default_factory=list)  # keys in the target only
    changed: list = field(default_factory=list)  # keys on both sides with different values
    columns: dict = field(default_factory=dict)  # changed key -> the columns that differ

    @property
    def ok(self) -> bool:
        return self.source == self.target

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "range": self.chunk.label,
            "lo": self.chunk.lo,
            "hi": self.chunk.hi,
            "source_rows": self.source.rows,
            "target_rows": self.target.rows,
            "source_digest": self.source.hex(),
            "target_digest": self.target.hex(),
        }
        for name in ("missing", "extra", "changed"):
            keys = getattr(self, name)
            if keys:
                d[name] = [k[0] if len(k) == 1 else list(k) for k in keys]
        if self.columns:  # in the order of "changed"
            d["changed_columns"] = [self.columns.get(k, []) for k in self.changed]
        return d


@dataclass
class TableVerification:
    name: str
    ranges: list[RangeResult]
    method: str = "canonical"  # or "native": digested by the servers (see method_for)
    seconds: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None  # the target table is missing, or could not be read
    # the source's rows counted on their own where no range was compared (a missing table)
    counted_source_rows: int | None = None
    # the table's qualified key on the target where it differs from `name` (the source's:
    # --schema-map, --identifiers)
    target: str | None = None
    missing: bool = False  # the target lacks the table: `counted_source_rows` says what it lacks

    @property
    def source_rows(self) -> int:
        if self.counted_source_rows is not None and not self.ranges:
            return self.counted_source_rows
        return sum(r.source.rows for r in self.ranges)

    @property
    def target_rows(self) -> int:
        return sum(r.target.rows for r in self.ranges)

    @property
    def mismatches(self) -> list[RangeResult]:
        return [r for r in self.ranges if not r.ok]

    @property
    def ok(self) -> bool:
        failed = [c for c in self.checks if not c.passed and c.severity == "error"]
        return self.error is None and not self.mismatches and not failed

    def to_dict(self) -> dict[str, Any]:
        landed = {"target_table": self.target} if self.target else {}
        return {
            "table": self.name,
            **landed,
            "method": self.method,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "ranges": len(self.ranges),
            "matching_ranges": len(self.ranges) - len(self.mismatches),
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "missing": self.missing,
            "error": self.error,
            "mismatches": [r.to_dict() for r in self.mismatches],
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass
class VerifyReport:
    source: str  # masked
    target: str
    started: str
    seconds: float
    tables: list[TableVerification]
    # tables the target holds and the source does not (when no tables were named): never
    # compared, so the replica is not what the source is
    extra_tables: list[str] = field(default_factory=list)
    skipped: tuple[Skipped, ...] = ()  # left out, as the copy left them out: never compared
    # "table.column: source -> target (why)" of lossy mappings: their values may differ
    lossy: tuple[str, ...] = ()
    # row filters, columns left out, masked columns (and how they were compared)
    columns: tuple[str, ...] = ()
    # views and sequences (verify.objects.ObjectCheck): carried ones compared, the others
    # listed as not carried
    objects: list = field(default_factory=list)
    # the plan verified: column names and types for lineage (sluice.airflow.lineage); never
    # in the reports (`to_dict` leaves it out)
    plan: Plan | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return (all(t.ok for t in self.tables) and not self.extra_tables
                and all(o.ok for o in self.objects))  # fmt: skip

    def table(self, name: str) -> TableVerification:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "tables": [t.to_dict() for t in self.tables],
            "extra_tables": list(self.extra_tables),
            "skipped": [{"table": s.table, "reason": s.reason} for s in self.skipped],
            "lossy_columns": list(self.lossy),
            "filtered_or_masked": list(self.columns),
            "objects": [o.to_dict() for o in self.objects],
            "checks": [],
        }


def column_notes(tables: Sequence[Any]) -> tuple[str, ...]:
    """The report's lines for the plan's row filters, columns left out and masked columns:
    a masked table is compared through the mask, by the canonical method (a server-side
    digest cannot apply a Python mask, so two same-engine tables never digest natively)."""
    out = []
    for tp in tables:
        if tp.table.where:
            out.append(f"{tp.name}: source rows where ({tp.table.where}) only (--where)")
        if tp.excluded:
            out.append(f"{tp.name}: {', '.join(tp.excluded)} left out on both sides "
                       "(--exclude-columns)")  # fmt: skip
        for column, how in tp.masks:
            out.append(f"{tp.name}.{column}: source values masked ({how}) before comparing")
        if tp.masks:
            out.append(f"{tp.name}: compared by the canonical method, never a server-side "
                       "digest: only it applies the Python mask")  # fmt: skip
    return tuple(out)
