"""A verification's figures for a monitoring system (`sluice.core.metrics`, issue 25)."""

from __future__ import annotations

from sluice.core import metrics
from sluice.core.urls import DbUrl
from sluice.verify.results import VerifyReport


def recorded(report: VerifyReport, target: DbUrl) -> VerifyReport:
    """`report`, its figures recorded per table: the ranges that differ and the checks
    failing (gauges: this verify's), and a table verified equal as a success (what its
    freshness counts from). A missing table differs in no range but is no success."""
    plan = report.plan
    if plan is None or not metrics.active():
        return report
    for tv in report.tables:
        labels = metrics.table_labels(plan.source_engine, target, plan.table(tv.name).target)
        metrics.gauge("verify_mismatched_ranges", len(tv.mismatches), labels)
        metrics.gauge("quality_checks_failed", sum(not c.passed for c in tv.checks), labels)
        if tv.ok:
            metrics.succeeded(labels)
    return report
