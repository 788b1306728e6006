"""Proving a replica: per-range counts and checksums on both sides over a canonical encoding,
data-quality checks on the target, repair of the ranges that differ, and the reports.

Modules: canonical (value encoding), run (`verify_database`, ranges on both sides), results
(what it found), missing (tables the target lacks, counted), rows (naming differing keys and
columns), quality (checks and rules), repair
(re-copy differing ranges through the copy's chunk path), report (JSON, Markdown, HTML, log
lines), objects (views and sequences on the replica).
May import: sluice.copy, sluice.state, sluice.datasets, sluice.dialects, sluice.core.
"""

from sluice.verify.results import RangeResult, TableVerification, VerifyReport
from sluice.verify.run import DEFAULT_VERIFY_ROWS, VerifyOptions, verify_database, verify_plan

__all__ = [
    "DEFAULT_VERIFY_ROWS",
    "RangeResult",
    "TableVerification",
    "VerifyOptions",
    "VerifyReport",
    "verify_database",
    "verify_plan",
]
