"""Every configuration example in the docs loads and fits the schema it is written for
(issue 13, item 8): watermark files (docs/sync.md), data-quality rules (docs/verification.md),
plans as JSON and job files (docs/selection.md). A new example of another kind fails here
until it is tested too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from sluice.copy.plan import Plan
from sluice.datasets.stackoverflow import TABLES
from sluice.sync import watermarks
from sluice.verify.quality import QualityRules

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```(yaml|json)\n(.*?)^```", re.M | re.S)


def examples() -> list[tuple[str, str, str]]:
    found = []
    for doc in sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]):
        for i, m in enumerate(BLOCK.finditer(doc.read_text(encoding="utf-8"))):
            found.append((f"{doc.relative_to(ROOT)}#{i}", m.group(1), m.group(2)))
    return found


def test_the_docs_have_examples():
    names = {name.split("#")[0] for name, _, _ in examples()}
    assert {"docs/sync.md", "docs/verification.md"} <= names


@pytest.mark.parametrize(("name", "fmt", "text"), examples(), ids=[e[0] for e in examples()])
def test_example_loads_and_fits_stackoverflow(name, fmt, text, tmp_path):
    data = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    if isinstance(data, dict) and {"source", "target"} & set(data) and "source_engine" not in data:
        # a job file (a plan has a source and a target too)
        from tests.unit.test_jobfile_docs import check_copy_job

        check_copy_job(text, tmp_path)
        return
    if isinstance(data, dict) and {"mappings", "rule_files", "scrape_configs"} & set(data):
        _check_monitoring(name, data)  # docs/monitoring.md: statsd_exporter, Prometheus
        return
    specs = (data.get("tables") or {}) if isinstance(data, dict) else {}
    if "source_engine" in data:  # a plan, as `sluice plan --json` prints it
        plan = Plan.from_dict(data)
        assert Plan.from_dict(plan.to_dict()) == plan
        for tp in plan.tables:
            assert set(tp.table.column_names) == set(TABLES[tp.name].column_names)
    elif specs and all(isinstance(s, dict) and "kind" in s for s in specs.values()):
        path = tmp_path / f"watermarks.{fmt}"  # loaded the way `sluice sync --watermarks` does
        path.write_text(text, encoding="utf-8")
        for table, mark in watermarks.load(path).items():
            assert watermarks.check(TABLES[table], mark) == [], name
    elif specs:
        rules = QualityRules.from_dict(data)  # as `--checks FILE` reads it
        for table, r in rules.tables.items():
            columns = set(TABLES[table].column_names)
            assert set(r.required) <= columns, name
            for o in r.orphans:
                assert set(o.foreign_key.columns) <= columns, name
                assert set(o.foreign_key.ref_columns) <= set(TABLES[o.foreign_key.ref_table]
                                                             .column_names), name  # fmt: skip
    else:
        pytest.fail(f"{name}: an example of a kind this test does not know: test it here")


def _check_monitoring(name: str, data: dict) -> None:
    """A statsd_exporter mapping names metrics sluice has, with their labels; a Prometheus
    snippet names the shipped rules file."""
    from sluice.core.metrics import METRICS, PREFIX

    for m in data.get("mappings") or []:
        metric = METRICS.get(m["name"].removeprefix(PREFIX))
        assert metric is not None and m["name"].startswith(PREFIX), (name, m["name"])
        assert set(m.get("labels") or {}) <= set(metric.labels), (name, m)
    for path in data.get("rule_files") or []:
        assert (ROOT / "include" / "monitoring" / Path(path).name).exists(), (name, path)
