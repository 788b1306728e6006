"""The Replication page: per DAG its latest runs (per table rows on source and target,
matching ranges, checks, verdict, rows moved and rows/s) each linking to its full report,
rows/s per table over recent runs, and each target's freshness. Built from the DAGs' run
indexes (`sluice.airflow.history`) as one standalone HTML document: inline CSS and SVG,
every value escaped (`html.escape`, as the verify report does)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from html import escape
from urllib.parse import quote

from sluice.airflow.history import Freshness, freshness
from sluice.airflow.ui.charts import bar_chart, line_chart

RUNS_SHOWN = 10  # per DAG in the table; the chart draws up to CHART_RUNS
CHART_RUNS = 30
CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em}td.num{text-align:right}"
    ".ok{background:#d8f5d8}.bad{background:#f8d7d7}.warn{background:#fff1c2}"
    "tr.run td{border-top:2px solid #888;font-weight:600}figure{margin:.5em 0 1.5em}"
    "figcaption{font-weight:600;margin-bottom:.3em}.empty{color:#666}"
)


def _num(value) -> str:
    return "—" if value is None else f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never verified"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _place(target: str) -> str:
    """A target as a chart label: host:port/database (the table below has it whole)."""
    place = target.rpartition("@")[2] if "://" in target else target
    return place if len(place) <= 40 else "…" + place[-39:]


def _report_href(base: str, dag_id: str, run: Mapping) -> str:
    return f"{base}/reports/{quote(dag_id, safe='')}/{quote(str(run.get('file')), safe='')}.html"


def _runs_table(base: str, dag_id: str, runs: list[dict]) -> str:
    head = ("Run", "Table", "Source rows", "Target rows", "Ranges matching", "Checks",
            "Verdict", "Rows moved", "Rows/s")  # fmt: skip
    out = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for run in reversed(runs[-RUNS_SHOWN:]):
        verdict = "MATCH" if run.get("ok") else "MISMATCH"
        took = f", {run['seconds']:,.0f} s" if run.get("seconds") is not None else ""
        link = (f'<a href="{escape(_report_href(base, dag_id, run))}">'
                f"{escape(str(run.get('run_id')))}</a>")  # fmt: skip
        out.append(f'<tr class="run"><td colspan="6">{link} — {escape(str(run.get("kind")))}, '
                   f"started {escape(str(run.get('started')))}{escape(took)}</td>"
                   f'<td class="{"ok" if run.get("ok") else "bad"}">{verdict}</td>'
                   '<td colspan="2"></td></tr>')  # fmt: skip
        for table, t in (run.get("tables") or {}).items():
            checks = f"{t.get('checks_passed', 0)} passed"
            if t.get("checks_failed"):
                checks += f", {t['checks_failed']} failed"
            ranges = f"{_num(t.get('matching_ranges'))}/{_num(t.get('ranges'))}"
            v = str(t.get("verdict") or ("MATCH" if t.get("ok") else "MISMATCH"))
            cls = "ok" if v == "MATCH" else "bad"
            cells = [f"<td>{escape(table)}</td>",
                     f'<td class="num">{_num(t.get("source_rows"))}</td>',
                     f'<td class="num">{_num(t.get("target_rows"))}</td>',
                     f'<td class="num">{escape(ranges)}</td>', f"<td>{escape(checks)}</td>",
                     f'<td class="{cls}">{escape(v)}</td>',
                     f'<td class="num">{_num(t.get("rows_moved"))}</td>',
                     f'<td class="num">{_num(t.get("rows_per_second"))}</td>']  # fmt: skip
            out.append("<tr><td></td>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>"


def _rate_chart(dag_id: str, runs: list[dict]) -> str:
    shown = runs[-CHART_RUNS:]
    tables = sorted({t for r in shown for t in (r.get("tables") or {})})
    series = {t: [(r.get("tables") or {}).get(t, {}).get("rows_per_second") for r in shown]
              for t in tables}  # fmt: skip
    labels = [str(r.get("started") or r.get("run_id"))[:16] for r in shown]
    return line_chart(f"{dag_id}: rows/s per table, last {len(shown)} runs", labels, series,
                      "rows/s")  # fmt: skip


def _freshness(found: list[Freshness], limit: float | None) -> str:
    def fine(f: Freshness) -> bool:
        return f.age_seconds is not None and (limit is None or f.age_seconds <= limit)

    bars = [(_place(f.target), None if f.age_seconds is None else f.age_seconds / 60, fine(f))
            for f in found]  # fmt: skip
    title = "Replica freshness: minutes since the newest verified run started"
    if limit is not None:
        title += f" (alert past {limit / 60:g} min)"
    rows = "".join(
        f"<tr><td>{escape(f.target)}</td><td>{escape(f.dag_id or '—')}</td>"
        f"<td>{escape(f.as_of.isoformat(timespec='seconds') if f.as_of else '—')}</td>"
        f'<td class="{"ok" if fine(f) else "bad"}">{escape(_age(f.age_seconds))}</td></tr>'
        for f in found
    )
    head = "<tr><th>Target</th><th>Newest verified by</th><th>As of</th><th>Age</th></tr>"
    return bar_chart(title, bars, "min") + f"<table>{head}{rows}</table>"


def render(indexes: Mapping[str, list[dict]], base: str, *, shown_root: str,
           freshness_limit: float | None = None, now: datetime | None = None) -> str:  # fmt: skip
    """The page for `indexes` (dag_id -> its runs, newest last) the user may read; `base` is
    the plugin's URL prefix, which serves the reports."""
    now = now or datetime.now(timezone.utc)
    out = ["<!doctype html><html><head><meta charset='utf-8'>",
           "<title>sluice: replication</title>", f"<style>{CSS}</style></head><body>",
           "<h1>Replication</h1>",
           f"<p>Reports from {escape(shown_root)}; "
           f"{now.isoformat(timespec='seconds')}.</p>"]  # fmt: skip
    if not indexes:
        out.append('<p class="empty">No verified runs yet: a DAG run writes its figures here '
                   "when its verify task ends.</p>")  # fmt: skip
    else:
        out.append("<h2>Freshness</h2>" + _freshness(freshness(indexes, now), freshness_limit))
    for dag_id, runs in sorted(indexes.items()):
        out.append(f'<h2 id="{escape(dag_id)}">{escape(dag_id)}</h2>')
        out.append(_rate_chart(dag_id, runs))
        out.append(_runs_table(base, dag_id, runs))
    return "".join(out) + "</body></html>"
