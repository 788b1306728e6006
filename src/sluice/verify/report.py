"""Render a verify report (`VerifyReport.to_dict()`) as Markdown, standalone HTML or log lines.

Table names, keys and details come from databases, so every value is escaped for the format it
lands in; optional keys may be absent because reports are also loaded back from JSON.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from sluice.core.errors import ConfigError

KEY_LIMIT = 20  # keys listed per kind (missing/extra/changed) before "… and N more"
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}
_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<|&]|^[#>+=-])")  # inline syntax, block markers at start
_NEWLINE = re.compile(r"\r\n|\r|\n")
_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:.3em .6em}.num{text-align:right}"
    ".ok{background:#d8f5d8}.bad{background:#f8d7d7}.warn{background:#fff1c2}"
)
_TABLE_HEAD = "Table|Source rows|Target rows|Ranges matching|Mismatches|Checks|Method|Verdict"
_TABLE_HEAD = _TABLE_HEAD.split("|")  # Method: "native" (SQL digests) or "canonical" (client)
_CHECK_HEAD = ["Severity", "Check", "Table", "Column", "Detail"]
_NUMERIC = {"Source rows", "Target rows", "Ranges matching", "Mismatches"}


def _num(value: Any) -> str:
    """Counts get thousands separators; an absent number shows as a dash, never as 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—" if value is None else str(value)
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _key(key: Any) -> str:
    """Keys are shown verbatim (no separators) so they can be pasted into a WHERE clause."""
    return "(" + ", ".join(map(_key, key)) + ")" if isinstance(key, (list, tuple)) else str(key)


def _failing(checks: list[dict] | None) -> list[dict]:
    """A check without `passed` counts as failing: a report should never hide a problem."""
    return [c for c in checks or [] if not c.get("passed")]


def _checks(t: dict) -> list[dict]:
    """A table's checks; a table that could not be verified (target missing) fails one more."""
    error = t.get("error")
    failed = {"check": "verify", "table": t.get("table"), "severity": "error", "detail": error}
    return (t.get("checks") or []) + ([failed] if error else [])


def _severity_counts(failing: list[dict]) -> tuple[int, int]:
    errors = sum(1 for c in failing if c.get("severity") == "error")
    return errors, len(failing) - errors


def _table_row(t: dict) -> list[str]:
    """One table's row as plain strings in `_TABLE_HEAD` order, shared by all renderers."""
    checks = _checks(t)
    failing = _failing(checks)
    errors, warnings = _severity_counts(failing)
    parts = [f"{len(checks) - len(failing):,} passed"] if len(checks) > len(failing) else []
    parts += [_plural(errors, "error")] if errors else []
    parts += [_plural(warnings, "warning")] if warnings else []
    ranges, matching = t.get("ranges"), t.get("matching_ranges")
    mismatches = t.get("mismatches") or []
    known = isinstance(ranges, int) and isinstance(matching, int)
    bad_ranges = ranges - matching if known else len(mismatches)
    src, tgt = t.get("source_rows"), t.get("target_rows")
    counts_ok = bad_ranges == 0 and not mismatches and src == tgt and not t.get("error")
    # the producer's `ok` also fails on error checks: those show as CHECKS FAILED, not MISMATCH
    data_ok = counts_ok if t.get("ok") is None else bool(t["ok"]) or (counts_ok and errors > 0)
    verdict = "MISMATCH" if not data_ok else "CHECKS FAILED" if errors else "MATCH"
    verdict = "MISSING" if t.get("missing") else verdict  # absent from the target
    ranges_text = "—" if ranges is None else f"{_num(matching)}/{_num(ranges)}"
    name = str(t.get("table", "?"))
    if t.get("target_table"):  # renamed on the target (--schema-map, --identifiers)
        name += f" -> {t['target_table']}"
    row = [name, _num(src), _num(tgt), ranges_text, _num(bad_ranges)]
    return [*row, ", ".join(parts) or "none", str(t.get("method") or "—"), verdict]


def verdict(t: dict) -> str:
    """A table's verdict as every renderer shows it: MATCH, MISMATCH, CHECKS FAILED, MISSING."""
    return _table_row(t)[-1]


def _all_failing(report: dict) -> list[dict]:
    """Failing checks of every table, then report-wide ones; errors first, order kept otherwise."""
    found = []
    for t in report.get("tables") or []:
        found += [{"table": t.get("table"), **c} for c in _failing(_checks(t))]
    found += _failing(report.get("checks"))
    return sorted(found, key=lambda c: c.get("severity") != "error")


def _overview(report: dict) -> tuple[str, str, str, str, list[list[str]], list[dict]]:
    """Verdict, headline, title, timing, table rows, failing checks: shared by every format."""
    rows = [_table_row(t) for t in report.get("tables") or []]
    failing = _all_failing(report)
    errors, warnings = _severity_counts(failing)
    differ = sum(1 for r in rows if r[-1] in ("MISMATCH", "MISSING"))
    absent = sum(1 for r in rows if r[-1] == "MISSING")
    ok = not differ and not errors if report.get("ok") is None else report["ok"]
    tables = f"{_plural(len(rows), 'table')} match" if rows else "no tables compared"
    tables = f"{differ:,} of {_plural(len(rows), 'table')} differ" if differ else tables
    tables += f" ({absent:,} missing in the target)" if absent else ""
    extra = [str(n) for n in report.get("extra_tables") or []]
    if extra:  # the target holds tables the source does not: never compared, never a match
        tables += f"; {_plural(len(extra), 'target table')} not in the source: {', '.join(extra)}"
        ok = False
    checks = "no checks failing"
    if failing:
        kinds = [_plural(n, w) for n, w in ((errors, "error"), (warnings, "warning")) if n]
        checks = f"{_plural(len(failing), 'check')} failing ({', '.join(kinds)})"
    seconds = report.get("seconds")
    took = f"{seconds:,.1f} s" if isinstance(seconds, (int, float)) else "—"
    when = f"Started {report.get('started', '—')}, took {took}."
    title = f"{report.get('source', '?')} -> {report.get('target', '?')}"  # masked by producer
    return "MATCH" if ok else "MISMATCH", f"{tables}; {checks}", title, when, rows, failing


def _mismatch_lines(m: dict) -> list[str]:
    """The range line, then "missing (25): 1, 2, … and 5 more" per kind that has keys."""
    src, tgt = _num(m.get("source_rows")), _num(m.get("target_rows"))
    lines = [f"{m.get('range', '?')}: source {src} rows, target {tgt} rows"]
    columns = list(m.get("changed_columns") or [])  # parallel to "changed"
    for kind in ("missing", "extra", "changed"):
        keys = m.get(kind) or []
        if keys:
            cols = columns if kind == "changed" else []
            cols = cols + [[]] * (len(keys) - len(cols))
            named = [f"{_key(k)} ({', '.join(map(str, c))})" if c else _key(k)
                     for k, c in zip(keys, cols)]  # fmt: skip
            shown = ", ".join(named[:KEY_LIMIT])
            more = f" … and {len(keys) - KEY_LIMIT:,} more" if len(keys) > KEY_LIMIT else ""
            lines.append(f"{kind} ({len(keys):,}): {shown}{more}")
    return lines


def _blocks(report: dict) -> list[tuple]:
    """The document both Markdown and HTML render, as (kind, *args) with unescaped text."""
    verdict, headline, title, when, rows, failing = _overview(report)
    out: list[tuple] = [("h1", f"Verification: {title}"), ("verdict", verdict, headline)]
    out += [("p", when), ("h2", "Tables")]
    out.append(("table", _TABLE_HEAD, rows) if rows else ("p", "No tables compared."))
    compared = report.get("filtered_or_masked") or []  # --where, --exclude-columns, --mask
    if compared:
        out += [("h2", "Rows filtered, columns masked or left out"),
                ("ul", [[str(line)] for line in compared])]  # fmt: skip
    out.append(("h2", "Mismatches"))
    tables = [t for t in report.get("tables") or [] if t.get("mismatches")]
    for t in tables:
        out.append(("h3", str(t.get("table", "?"))))
        out.append(("ul", [_mismatch_lines(m) for m in t["mismatches"]]))
    out += [] if tables else [("p", "No mismatching ranges.")]
    objects = [[str(o.get(k)) for k in ("kind", "name", "status", "detail")]
               for o in report.get("objects") or []]  # fmt: skip
    if objects:  # views and sequences: compared, or not carried with the reason
        out += [("h2", "Views and sequences"),
                ("table", ["Kind", "Name", "Status", "Detail"], objects)]  # fmt: skip
    checks = [[str(c.get(k.lower()) or "—") for k in _CHECK_HEAD] for c in failing]
    out.append(("h2", "Checks"))
    out.append(("table", _CHECK_HEAD, checks) if checks else ("p", "No failing checks."))
    return out


def _md(text: Any) -> str:
    """Backslash-escape Markdown syntax (also `<`, so names never become raw HTML)."""
    return _NEWLINE.sub("<br>", _MD_SPECIAL.sub(r"\\\1", str(text)))


def to_markdown(report: dict) -> str:
    """The report as GitHub-flavoured Markdown: headline, one row per table, then details."""
    out = []
    for kind, *args in _blocks(report):
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + _md(args[0]))
        elif kind == "verdict":
            out.append(f"**{args[0]}**: {_md(args[1])}")
        elif kind == "p":
            out.append(_md(args[0]))
        elif kind == "ul":
            for first, *keys in args[0]:
                out += [f"- {_md(first)}", *(f"  - {_md(line)}" for line in keys)]
        else:
            head, rows = args
            rule = "|" + "|".join("--:" if h in _NUMERIC else "---" for h in head) + "|"
            cells = ["| " + " | ".join(map(_md, r)) + " |" for r in (head, *rows)]
            out += [cells[0], rule, *cells[1:]]
        out.append("")
    return "\n".join(out)


def _css_class(column: str, value: str) -> str:
    """Green/red verdicts, red errors, amber warnings, right-aligned counts."""
    if column == "Verdict":
        return "ok" if value == "MATCH" else "bad"
    if column == "Severity":
        return "bad" if value == "error" else "warn"
    return "num" if column in _NUMERIC else ""


def _html_row(head: list[str], cells: list[str], tag: str = "td") -> str:
    classes = [_css_class(h, c) if tag == "td" else "" for h, c in zip(head, cells)]
    tds = (f'<{tag} class="{k}">' if k else f"<{tag}>" for k in classes)
    return "<tr>" + "".join(f"{td}{escape(c)}</{tag}>" for td, c in zip(tds, cells)) + "</tr>"


def to_html(report: dict) -> str:
    """The same content as one standalone HTML5 file: no scripts, no external resources."""
    title = escape(_overview(report)[2])
    out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">']
    out += [f"<title>sluice verify: {title}</title>", f"<style>{_CSS}</style></head><body>"]
    for kind, *args in _blocks(report):
        if kind in ("h1", "h2", "h3", "p"):
            out.append(f"<{kind}>{escape(args[0])}</{kind}>")
        elif kind == "verdict":
            cls, (verdict, headline) = _css_class("Verdict", args[0]), map(escape, args)
            out.append(f'<p><strong class="{cls}">{verdict}</strong>: {headline}</p>')
        elif kind == "ul":
            out.append("<ul>")
            for first, *keys in args[0]:
                sub = "".join(f"<li>{escape(k)}</li>" for k in keys)
                out.append(f"<li>{escape(first)}" + (f"<ul>{sub}</ul>" if sub else "") + "</li>")
            out.append("</ul>")
        else:
            rows = [_html_row(args[0], r) for r in args[1]]
            out += ["<table>", _html_row(args[0], args[0], "th"), *rows, "</table>"]
    return "\n".join([*out, "</body></html>", ""])


def _plain(text: Any) -> str:
    """One log line must stay one line, whatever a table name contains."""
    return _NEWLINE.sub(r"\\n", str(text))


def summary_lines(report: dict) -> list[str]:
    """A header, one aligned line per table, one line per failing check: for a task log."""
    verdict, headline, title, when, rows, failing = _overview(report)
    lines = [_plain(f"verify {verdict}: {title}: {headline}. {when}")]
    rows = [[_plain(r[0]), *r[1:]] for r in rows]
    w = [max((len(r[i]) for r in rows), default=0) for i in range(7)]
    for r, t in zip(rows, report.get("tables") or []):
        name = r[0].ljust(w[0])
        src, tgt, ranges = (r[i].rjust(w[i]) for i in (1, 2, 3))
        method = r[6].ljust(w[6])  # which digest verified the table: native or canonical
        line = f"{name}  {src} -> {tgt} rows  {ranges} ranges  {method}  {r[-1]}"
        labels = [str(m.get("range", "?")) for m in t.get("mismatches") or []]
        if labels:
            more = f", +{len(labels) - 3:,} more" if len(labels) > 3 else ""
            line += f"  ({_plain(', '.join(labels[:3]))}{more})"
        lines.append(line.rstrip())
    lines += [_plain(f"  compared: {line}") for line in report.get("filtered_or_masked") or []]
    for c in failing:
        where = ".".join(str(p) for p in (c.get("table"), c.get("column")) if p) or "(report)"
        check = c.get("check", "?")
        lines.append(_plain(f"  {c.get('severity', '?')}: {where} {check}: {c.get('detail', '')}"))
    return lines


def render_report(report: dict, name: str) -> str:
    """The text of the format a file name (or a bare suffix, `.json`) asks for: JSON, HTML or
    Markdown; an unknown suffix is a usage error, not a guess."""
    suffix = name if name.startswith(".") and "/" not in name else Path(name).suffix
    kind = SUFFIXES.get(suffix.lower())
    if kind is None:
        raise ConfigError(f"report {name!r}: the suffix must be one of {', '.join(SUFFIXES)}")
    if kind == "json":
        return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    return to_html(report) if kind == "html" else to_markdown(report)


def write_report(report: dict, path: str | Path) -> None:
    """Write the format the file name asks for (`render_report`) to a local file."""
    path = Path(path)
    text = render_report(report, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
