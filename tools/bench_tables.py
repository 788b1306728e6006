"""Render docs/benchmarks.md's current verification table from docs/benchmarks-verify.json.

    cp bench/results/verify.json docs/benchmarks-verify.json   # after `python bench/verify.py`
    python tools/bench_tables.py            # rewrite the table between the markers
    python tools/bench_tables.py --check    # exit 1 when the page is stale

docs/benchmarks.md is the one place that states benchmark figures; other pages link to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE, DATA = DOCS / "benchmarks.md", DOCS / "benchmarks-verify.json"
BEGIN, END = "<!-- verify-table:begin (tools/bench_tables.py) -->", "<!-- verify-table:end -->"
LABELS = {
    "postgresql -> postgresql verify": "PostgreSQL -> PostgreSQL (native)",
    "postgresql -> postgresql verify --canonical": "PostgreSQL -> PostgreSQL, `--canonical`",
    "postgresql -> mysql verify": "PostgreSQL -> MariaDB (canonical, worker processes)",
}


def table(data: dict) -> str:
    lines = ["| path | copy | verify | verify / copy |", "|---|---|---|---|"]
    for run in data["runs"]:
        label = LABELS.get(run["path"], run["path"])
        lines.append(f"| {label} | {run['copy_s']:.2f} s | {run['verify_s']:.2f} s | "
                     f"{run['ratio']:.2f} |")  # fmt: skip
    return "\n".join(lines)


def render(page: str, data: dict) -> str:
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(data)}\n{END}{tail}"


if __name__ == "__main__":
    page = PAGE.read_text(encoding="utf-8")
    text = render(page, json.loads(DATA.read_text(encoding="utf-8")))
    if "--check" in sys.argv:
        sys.exit(0 if text == page else 1)
    PAGE.write_text(text, encoding="utf-8")
