"""Benchmark figures have one home: docs/benchmarks.md, its verification table rendered from
docs/benchmarks-verify.json. Other pages link there instead of restating ratios."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# "2.08x", "0.57 of the copy", "verify / copy": how a page restates a measured ratio
RATIO = re.compile(r"\b\d+\.\d+x\b|\b\d+\.\d+ of the copy\b|verify / copy|costs \d+\.\d+")


def test_verification_table_is_rendered_from_the_results_json():
    check = [sys.executable, str(ROOT / "tools" / "bench_tables.py"), "--check"]
    assert subprocess.run(check, cwd=ROOT).returncode == 0, "run tools/bench_tables.py"


def test_other_docs_link_to_benchmarks_instead_of_restating_ratios():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    restated = []
    for page in pages:
        if page.name == "benchmarks.md":
            continue
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if RATIO.search(line):
                restated.append(f"{page.relative_to(ROOT)}:{n}: {line.strip()}")
    assert restated == [], "state benchmark figures only in docs/benchmarks.md:\n" + "\n".join(
        restated
    )
    assert "benchmarks.md#verification" in (ROOT / "docs" / "verification.md").read_text()
