"""The proof both same-engine type suites start from: `sluice copy`, then `sluice verify` by
the servers' digest and again client-side, each required to pass and to use that method."""

from __future__ import annotations

import json

from sluice.cli import main
from sluice.core.urls import DbUrl


def copy_and_verify_both_ways(source: DbUrl, target: DbUrl, tmp_path) -> None:
    pair = ["--source", source.render_secret(), "--target", target.render_secret()]
    assert main(["copy", *pair]) == 0
    methods = {}
    for flag in ("", "--canonical"):
        report = tmp_path / f"verify{flag}.json"
        assert main(["verify", *pair, *([flag] if flag else []), "--json", str(report)]) == 0
        found = json.loads(report.read_text())
        assert found["ok"]
        methods[flag] = {t["table"]: t["method"] for t in found["tables"]}
    assert set(methods[""].values()) == {"native"}  # the servers digested every table
    assert set(methods["--canonical"].values()) == {"canonical"}
