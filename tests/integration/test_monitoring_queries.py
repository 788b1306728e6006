"""Every PromQL expression shipped in include/monitoring/ runs on a real Prometheus and returns
data: no dashboard panel left empty and no alert left silent by a typo in a metric or label.

A Prometheus (Debian's `prometheus`) scrapes a Pushgateway (`prometheus-pushgateway`) every
second; the test pushes one sample series of every metric in `sluice.core.metrics.METRICS`
(named and labelled as there) twice, the counters grown between the pushes, with values past
each alert's threshold: a last success three hours old, mismatched ranges and failing checks
above 0, twenty retries. Grafana's variables are given the pushed database and table. The
alert rules are also checked by `promtool check rules`. Then a real `sluice copy
--metrics-push` and a verify of its replica with one row damaged push into the same gateway:
every dashboard query those feed returns data for the copied table, and the mismatch alert
fires on the damaged table only (retries and change capture need a fault or a log reader:
their queries run on the sample series only; tests/capture/test_capture_metrics.py records
change capture's figures)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, push_to_gateway
from tests.ports import free_port

from sluice.core.metrics import METRICS, PREFIX

MONITORING = Path(__file__).resolve().parents[2] / "include" / "monitoring"
DASHBOARD = MONITORING / "sluice-grafana-dashboard.json"
ALERTS = MONITORING / "sluice-alerts.yml"
PROMETHEUS, PUSHGATEWAY = "/usr/bin/prometheus", "/usr/bin/prometheus-pushgateway"
LABELS = {"source_engine": "postgresql", "target_engine": "mssql", "database": "shop",
          "schema": "sales", "table": "orders", "fault": "transient"}  # fmt: skip
# what Grafana puts in place of its variables: the pushed database and table picked, not
# "All" (`.*`), which would match a misspelt label too
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s",
                     "$database": LABELS["database"], "$table": LABELS["table"]}  # fmt: skip


def dashboard_exprs() -> list[str]:
    """Each panel's queries, rows' panels included, with Grafana's variables filled in."""
    found = []

    def walk(panels: list[dict]) -> None:
        for p in panels:
            found.extend(t["expr"] for t in p.get("targets", []) if t.get("expr"))
            walk(p.get("panels", []))

    walk(json.loads(DASHBOARD.read_text())["panels"])
    out = []
    for expr in found:
        for name, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(name, value)
        assert "$" not in expr, expr  # a variable the test does not know
        out.append(expr)
    return out


def alert_exprs() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [r["expr"] for g in groups for r in g["rules"]]


def test_every_metric_has_a_panel_and_every_name_is_a_metric():
    text = " ".join(dashboard_exprs() + alert_exprs())
    used = set(re.findall(rf"\b{PREFIX}[a-z_]+", text))
    suffixes = {"histogram": ("_bucket", "_sum", "_count")}
    series = {PREFIX + m.name + s for m in METRICS.values() for s in suffixes.get(m.kind, ("",))}
    assert used <= series, used - series
    assert {m for m in METRICS if any(s.startswith(PREFIX + m) for s in used)} == set(METRICS)


def test_promtool_accepts_the_rules():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool missing: apt-get install prometheus")
    out = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} not ready in {seconds}s")


def started(args: list[str], ready: str) -> subprocess.Popen:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_ready(ready, proc)
    except BaseException:
        proc.kill()
        raise
    return proc


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(Prometheus URL, Pushgateway address): the server scraping the gateway every second."""
    for binary in (PROMETHEUS, PUSHGATEWAY):
        if not Path(binary).exists():
            pytest.skip(f"{binary} missing: apt-get install prometheus prometheus-pushgateway")
    folder = tmp_path_factory.mktemp("prometheus")
    gateway = f"127.0.0.1:{free_port()}"
    push = started([PUSHGATEWAY, f"--web.listen-address={gateway}"], f"http://{gateway}/-/ready")
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
              "scrape_configs": [{"job_name": "pushgateway", "honor_labels": True,
                                  "static_configs": [{"targets": [gateway]}]}]}  # fmt: skip
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    address = f"127.0.0.1:{free_port()}"
    try:
        args = [
            PROMETHEUS,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address={address}",
        ]
        prom = started(args, f"http://{address}/-/ready")
    except BaseException:
        push.kill()
        raise
    try:
        yield f"http://{address}", gateway
    finally:
        for proc in (prom, push):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def push(gateway: str, step: int) -> None:
    """One push of every metric, labelled as METRICS says; counters and the histogram grow
    with `step`, gauges sit past the alerts' thresholds."""
    registry = CollectorRegistry()
    gauges = {"verify_mismatched_ranges": 2, "quality_checks_failed": 1,
              "replica_last_success_timestamp_seconds": time.time() - 3 * 3600,
              "memory_buffered_bytes": 64 << 20, "cdc_lag_seconds": 4.5,
              "cdc_lag_bytes": 81920}  # fmt: skip
    counters = {"rows_copied_total": 50_000, "bytes_copied_total": 9 << 20,
                "retries_total": 20, "cdc_changes_applied_total": 700}  # fmt: skip
    for m in METRICS.values():
        labels = [LABELS[k] for k in m.labels]
        name = PREFIX + m.name
        if m.kind == "counter":
            Counter(name, m.help, m.labels, registry=registry).labels(*labels).inc(
                counters[m.name] * step
            )
        elif m.kind == "histogram":
            h = Histogram(name, m.help, m.labels, registry=registry).labels(*labels)
            for _ in range(10 * step):
                h.observe(0.4)
        else:
            Gauge(name, m.help, m.labels, registry=registry).labels(*labels).set(gauges[m.name])
    push_to_gateway(gateway, job="sluice", registry=registry, grouping_key={"run": "test"})


def query(base: str, expr: str) -> list[dict]:
    data = get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert data["status"] == "success", (expr, data)
    return data["data"]["result"]


@pytest.fixture(scope="module")
def pushed(prometheus) -> str:
    """Prometheus once it holds both pushes (several scrapes of each)."""
    base, gateway = prometheus
    for step in (0, 1):
        push(gateway, step)
        expected = str(20 * step)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = query(base, f"{PREFIX}retries_total")
            if found and found[0]["value"][1] == expected:
                break
            time.sleep(0.25)
        else:
            raise AssertionError(f"push {step} never scraped")
        time.sleep(2.5)  # a few more scrapes at this value
    return base


@pytest.mark.parametrize("expr", dashboard_exprs(), ids=lambda e: e[:60])
def test_dashboard_query_returns_data(pushed, expr):
    result = query(pushed, expr)
    assert result, expr
    assert all(r["value"][1] not in ("NaN", "+Inf", "-Inf") for r in result), (expr, result)


@pytest.mark.parametrize("expr", alert_exprs(), ids=lambda e: e.split("(")[0][:40])
def test_alert_fires_on_data_past_its_threshold(pushed, expr):
    result = query(pushed, expr)
    assert result, expr
    ours = [r for r in result if r["metric"].get("database") == LABELS["database"]]
    assert {r["metric"].get("table") for r in ours} == {LABELS["table"]}, result


# a copy and a verify produce these; retries and change capture need a fault or a log reader
FROM_A_COPY = ("rows_copied", "bytes_copied", "chunk_duration", "verify_mismatched",
               "quality_checks", "replica_last_success", "memory_buffered")  # fmt: skip


@pytest.fixture(scope="module")
def real_run(prometheus, pg_server) -> Iterator[tuple[str, str]]:
    """(Prometheus URL, target database) once a real `sluice copy --metrics-push` and a verify
    of the replica, one Users row damaged, have pushed into the scraped gateway."""
    from tests.conftest import _fresh, stackoverflow_db
    from tests.independent import execute

    from sluice.cli.main import main

    base, gateway = prometheus
    source_gen = stackoverflow_db(pg_server, "sluice_promq_src", 0.01)
    target_gen = _fresh(pg_server, "sluice_promq_dst")
    source, target = next(source_gen), next(target_gen)
    try:
        push_url = f"http://{gateway}"
        assert main(["copy", "--source", source.render_secret(), "--target",
                     target.render_secret(), "--metrics-push", push_url]) == 0  # fmt: skip
        execute(target, 'UPDATE "Users" SET "DisplayName" = \'damaged\' '
                        'WHERE "Id" = (SELECT max("Id") FROM "Users")')  # fmt: skip
        assert main(["verify", "--source", source.render_secret(), "--target",
                     target.render_secret(), "--metrics-push", push_url]) == 1  # fmt: skip
        deadline = time.monotonic() + 30
        wanted = f'{PREFIX}verify_mismatched_ranges{{database="{target.database}"}}'
        while not query(base, wanted) and time.monotonic() < deadline:
            time.sleep(0.25)
        time.sleep(2.5)  # a few scrapes: rate() needs two samples
        yield base, target.database
    finally:
        next(target_gen, None)
        next(source_gen, None)


def real_exprs() -> list[str]:
    """The dashboard's queries a copy and a verify feed, for the real run's Users table."""
    return [e for e in dashboard_exprs() if any(m in e for m in FROM_A_COPY)]


@pytest.mark.parametrize("expr", real_exprs(), ids=lambda e: e[:60])
def test_dashboard_query_returns_data_from_a_real_copy_and_verify(real_run, expr):
    base, database = real_run
    expr = expr.replace(f'"{LABELS["database"]}"', f'"{database}"')
    expr = expr.replace(f'"{LABELS["table"]}"', '"Users"')
    result = query(base, expr)
    assert result, expr
    if expr.startswith("histogram_quantile"):  # one push: no rise within the window, so NaN
        counted = query(base, f'{PREFIX}chunk_duration_seconds_count{{database="{database}"}}')
        assert counted and all(float(r["value"][1]) > 0 for r in counted), counted
        return
    assert all(r["value"][1] not in ("NaN", "+Inf", "-Inf") for r in result), (expr, result)


def test_the_mismatch_alert_fires_on_the_damaged_table(real_run):
    base, database = real_run
    (rule,) = [e for e in alert_exprs() if "verify_mismatched_ranges" in e]
    found = {r["metric"]["table"] for r in query(base, rule)
             if r["metric"].get("database") == database}  # fmt: skip
    assert found == {"Users"}
