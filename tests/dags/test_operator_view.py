"""The operator's view in a real browser: `make airflow` as it starts (sluice.airflow.local,
LocalExecutor, the project's plugins folder), Debian's chromium driven by Playwright. Log in
as admin/admin, trigger the PostgreSQL -> PostgreSQL DAG from its page, wait for the run to
succeed, open the Replication page and find every table with MATCH, then the run's report
from it, and the verify task's "Verification report" link. Screenshots go to
$SLUICE_TEST_ARTIFACTS (default .sluice/test-artifacts).

Skipped, saying why, without chromium (`apt-get install chromium`: /usr/bin/chromium, or
$SLUICE_TEST_CHROMIUM) or without Playwright. The replica is checked independently too: each
table's rows as text on both sides."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import _fresh, stackoverflow_db
from tests.dags.api_server import admin_token
from tests.independent import rows
from tests.ports import free_port

from sluice.airflow import local
from sluice.airflow.components import Running, stop
from sluice.airflow.deployment import Deployment
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import TABLE_NAMES

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "replicate_stackoverflow_postgres_to_postgres"
CHROMIUM = os.environ.get("SLUICE_TEST_CHROMIUM") or "/usr/bin/chromium"
# as the machine's browser probe starts it: no sandbox as root, no calls home on a closed net
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(os.environ.get("SLUICE_TEST_ARTIFACTS") or ROOT / ".sluice" / "test-artifacts")


@dataclass
class Ui:
    base_url: str
    env: dict[str, str]
    source: DbUrl
    target: DbUrl
    token: str

    def api(self, path: str) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"}
        request = urllib.request.Request(self.base_url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def ui(pg_server: DbUrl, tmp_path_factory) -> Iterator[Ui]:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium (or set "
                    "SLUICE_TEST_CHROMIUM)")  # fmt: skip
    pytest.importorskip("playwright.sync_api", reason="needs playwright (make venv)")
    gens = [stackoverflow_db(pg_server, "sluice_ui_src"), _fresh(pg_server, "sluice_ui_dst"),
            _fresh(pg_server, "sluice_ui_airflow")]  # fmt: skip
    source, target, metadata = (next(g) for g in gens)
    d = Deployment(executor="local", port=free_port())
    home = tmp_path_factory.mktemp("ui-airflow")
    where = {"home": home, "source_db": source.database, "target_db": target.database,
             "metadata_db": metadata.database}  # fmt: skip
    env = local.setup(pg_server, d, **where)
    env["SLUICE_REPORT_DIR"] = str(home / "reports")  # the API server reads where verify wrote
    env["SLUICE_DISABLED_DAGS"] = ",".join(  # only the pair this machine can run
        [p for p in ("replicate_stackoverflow_to_target", "replicate_stackoverflow_to_postgres")]
        + [f"{DAG_ID}_incremental"]
    )
    running: list[Running] = local.launch(env, d)
    try:
        base = env["AIRFLOW__API__BASE_URL"]
        yield Ui(base, env, source, target, admin_token(base))
    finally:
        stop(running, grace=20)
        for g in reversed(gens):
            next(g, None)


def _wait_registered(ui: Ui, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:  # the DAG processor registers the DAG shortly after it starts
        try:
            ui.api(f"/api/v2/dags/{DAG_ID}")
            return
        except urllib.error.HTTPError:
            assert time.monotonic() < deadline, "the DAG was never registered"
            time.sleep(2)


def _wait_run(ui: Ui, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = ui.api(f"/api/v2/dags/{DAG_ID}/dagRuns?order_by=-start_date&limit=1")["dag_runs"]
        if runs and runs[0]["state"] in ("success", "failed"):
            return runs[0]
        time.sleep(3)
    raise AssertionError(f"no run of {DAG_ID} ended within {timeout:.0f}s")


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _verdicts(text: str) -> dict[str, str]:
    """Table name -> the verdict on its row, from a page's text (rows are tab-separated)."""
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("\t")]
        for table in TABLE_NAMES:
            if table in cells:
                verdict = next((c for c in cells if c in ("MATCH", "MISMATCH", "CHECKS FAILED",
                                                         "MISSING")), None)  # fmt: skip
                if verdict:
                    found[table] = verdict
    return found


def test_trigger_from_the_ui_then_every_table_matches_on_the_replication_page(ui: Ui) -> None:
    from playwright.sync_api import sync_playwright

    _wait_registered(ui)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(ui.base_url + "/")
            page.locator("input[name=username]").fill("admin")
            page.locator("input[type=password]").fill("admin")
            page.locator("button[type=submit]").click()
            page.wait_for_url(lambda u: "/auth/login" not in u)

            page.goto(f"{ui.base_url}/dags/{DAG_ID}")
            page.get_by_role("button", name="Trigger Dag").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_role("button", name="Trigger", exact=True).click()
            run = _wait_run(ui)
            assert run["state"] == "success", run
            page.goto(f"{ui.base_url}/dags/{DAG_ID}/runs/{run['dag_run_id']}")
            page.wait_for_load_state("networkidle")
            _shot(page, "01-dag-run")

            page.get_by_role("link", name="Replication").click()  # the plugin's nav entry
            frame = page.frame_locator("iframe").first
            heading = frame.get_by_role("heading", name=DAG_ID)
            heading.wait_for()
            _shot(page, "02-replication-page")
            text = frame.locator("body").inner_text()
            assert _verdicts(text) == dict.fromkeys(TABLE_NAMES, "MATCH"), text
            assert "Freshness" in text and frame.locator("svg").count() >= 2

            frame.get_by_role("link", name=run["dag_run_id"]).click()
            frame.get_by_role("heading", name=re.compile("^Verification")).wait_for()
            _shot(page, "03-report")
            text = frame.locator("body").inner_text()
            assert _verdicts(text) == dict.fromkeys(TABLE_NAMES, "MATCH"), text

            links = ui.api(f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances/"
                           "verify/links")["extra_links"]  # fmt: skip
            href = links.get("Verification report")
            assert href and href.endswith(".html"), links
            page.goto(ui.base_url + href)
            assert _verdicts(page.locator("body").inner_text()) == dict.fromkeys(
                TABLE_NAMES, "MATCH"
            )
        finally:
            browser.close()
    for table in TABLE_NAMES:  # independently of sluice: every row, as text
        query = (f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY \"Id\"), '')) "
                 f'FROM "{table}" t')  # fmt: skip
        assert rows(ui.target, query) == rows(ui.source, query), table


def _status(ui: Ui, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(ui.base_url + path, headers=headers),
                                    timeout=30) as response:  # fmt: skip
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_page_and_reports_need_a_login_and_serve_reports_only(ui: Ui) -> None:
    dag = f"/sluice/reports/{DAG_ID}"
    assert _status(ui, "/sluice/replication", None) in (401, 403)
    assert _status(ui, f"{dag}/latest.html", None) in (401, 403)
    assert _status(ui, "/sluice/replication", ui.token) == 200
    for path in (f"{dag}/..%2F..%2Fpasswords.json", f"{dag}/airflow.cfg",
                 "/sluice/reports/..%2Fcomponents/api-server.log", f"{dag}/nothing.html",
                 "/sluice/reports/no_such_dag/latest.html"):  # fmt: skip
        assert _status(ui, path, ui.token) == 404, path
