"""The Replication page's data and HTML (sluice.airflow.history, sluice.airflow.ui.page): the
run index on a real local store, rows/s from chunk spans, freshness per target, and every
name from a database escaped. The page inside Airflow, in a browser:
tests/dags/test_operator_view.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from sluice.airflow import history
from sluice.airflow.reports import report_root
from sluice.airflow.ui.page import render
from sluice.core.errors import ConfigError

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
HOSTILE = '<img src=x onerror="alert(1)">&'


def report(ok: bool, table: str = "Users", started: datetime = NOW, target: str = "pg://t"):
    return {
        "ok": ok, "target": target, "started": started.isoformat(),
        "tables": [{"table": table, "source_rows": 10, "target_rows": 10 if ok else 9,
                    "ranges": 2, "matching_ranges": 2 if ok else 1, "ok": ok,
                    "mismatches": [] if ok else [{"range": "x"}], "checks": [
                        {"check": "not_null", "passed": True, "severity": "error"}]}],
        "run": history.run_section("d", "r", "copy", started, started + timedelta(seconds=20),
                                   {table: {"rows": 10, "seconds": 4.0,
                                            "rows_per_second": 2.5}}),
    }  # fmt: skip


def test_rows_per_second_of_a_copy_is_over_its_chunks_span():
    chunks = [{"table": "T", "rows": 100, "started": 10.0, "ended": 12.0},
              {"table": "T", "rows": 300, "started": 11.0, "ended": 14.0},
              {"table": "U", "rows": 5}]  # fmt: skip
    got = history.copied_tables(chunks)
    assert got["T"] == {"rows": 400, "seconds": 4.0, "rows_per_second": 100.0}
    assert got["U"] == {"rows": 5, "seconds": 0.0, "rows_per_second": None}  # no times: no rate


def test_the_index_keeps_the_latest_runs_newest_last_and_replaces_a_run_verified_again(tmp_path):
    root = report_root({"SLUICE_REPORT_DIR": str(tmp_path)})
    (tmp_path / "d").mkdir()
    for n in range(history.KEEP + 3):
        history.record_run(root, "d", report(True), f"run{n}")
    history.record_run(root, "d", report(False), f"run{history.KEEP + 2}")
    runs = json.loads((tmp_path / "d" / "runs.json").read_text())
    assert len(runs) == history.KEEP
    assert runs[0]["run_id"] == "run3" and runs[-1]["run_id"] == f"run{history.KEEP + 2}"
    assert runs[-1]["ok"] is False and runs[-1]["tables"]["Users"]["verdict"] == "MISMATCH"
    assert history.dag_ids(root) == ["d"] and history.read_index(root, "d") == runs


def test_freshness_is_the_newest_verified_runs_start_per_target():
    indexes = {
        "full": [history.summary(report(True, started=NOW - timedelta(hours=5)), "a"),
                 history.summary(report(False, started=NOW - timedelta(hours=1)), "b")],
        "twin": [history.summary(report(True, started=NOW - timedelta(hours=2)), "c")],
        "other": [history.summary(report(False, target="pg://never"), "d")],
    }  # fmt: skip
    got = {f.target: f for f in history.freshness(indexes, NOW)}
    assert (got["pg://t"].dag_id, got["pg://t"].run_id) == ("twin", "c")  # a failed run: no
    assert got["pg://t"].age_seconds == 7200
    assert got["pg://never"].as_of is None and got["pg://never"].age_seconds is None


@pytest.mark.parametrize("given", ["ninety", "0", "-5", "inf"])
def test_a_freshness_limit_that_is_not_a_positive_number_is_refused(given):
    with pytest.raises(ConfigError, match="SLUICE_FRESHNESS_MAX_MINUTES"):
        history.freshness_limit({"SLUICE_FRESHNESS_MAX_MINUTES": given})
    assert history.freshness_limit({"SLUICE_FRESHNESS_MAX_MINUTES": "90"}) == 5400
    assert history.freshness_limit({}) is None


def test_the_page_escapes_every_name_and_colours_by_verdict_and_age():
    runs = [history.summary(report(True, HOSTILE, NOW - timedelta(hours=3)), HOSTILE),
            history.summary(report(False, HOSTILE, NOW - timedelta(minutes=5)), "r2")]  # fmt: skip
    html = render({HOSTILE: runs}, "/sluice", shown_root="file:///r", freshness_limit=3600,
                  now=NOW)  # fmt: skip
    assert "<img" not in html and 'onerror="' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in html
    assert "<script" not in html and "http" not in html.replace("file:///r", "")  # no CDN
    assert html.count("<svg") == 2  # rows/s per table, freshness
    # the stale target (3 h, limit 1 h) in red; the newest run first, each linking its report
    assert 'class="bad">3.0 h</td>' in html
    assert html.index(">r2</a>") < html.index('class="ok">MATCH</td>')
    assert "/sluice/reports/%3Cimg%20src%3Dx%20onerror%3D%22alert%281%29%22%3E%26/r2.html" in html
    assert 'class="ok">MATCH</td>' in html and 'class="bad">MISMATCH</td>' in html


def test_a_page_with_no_runs_says_so():
    html = render({}, "/sluice", shown_root="memory://r", now=NOW)
    assert "No verified runs yet" in html
