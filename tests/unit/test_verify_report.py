"""Verify reports rendered as Markdown, HTML and log lines: content, verdicts, escaping, files."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from sluice.core.errors import ConfigError
from sluice.verify.report import (
    render_report,
    summary_lines,
    to_html,
    to_markdown,
    write_report,
)

SOURCE = "postgresql://postgres:***@host/db"
TARGET = "mysql+pymysql://root:***@host/db"
HOSTILE = "a|b<script>alert(1)</script>"
MISSING = list(range(85011, 85036))  # 25 keys: 20 shown, 5 summarised


def check(
    name: str, table: str | None, column: str | None, severity: str, passed: bool, detail: str = ""
) -> dict:
    return {
        "check": name,
        "table": table,
        "column": column,
        "severity": severity,
        "passed": passed,
        "value": 0 if passed else 3,
        "detail": detail,
    }


def table(
    name: str,
    rows: int,
    *,
    target_rows: int | None = None,
    ranges: int = 2,
    matching: int | None = None,
    mismatches: list | None = None,
    checks: list | None = None,
) -> dict:
    matching = ranges if matching is None else matching
    target_rows = rows if target_rows is None else target_rows
    return {
        "table": name,
        "method": "canonical",
        "source_rows": rows,
        "target_rows": target_rows,
        "ranges": ranges,
        "matching_ranges": matching,
        "seconds": 1.5,
        "ok": matching == ranges and rows == target_rows,
        "mismatches": mismatches or [],
        "checks": checks or [],
    }


def report(tables: list[dict], checks: list | None = None, ok: bool = True) -> dict:
    return {
        "source": SOURCE,
        "target": TARGET,
        "started": "2026-11-25T02:10:00+00:00",
        "seconds": 12.3,
        "ok": ok,
        "tables": tables,
        "checks": checks or [],
    }


@pytest.fixture
def matching() -> dict:
    passing = [check("not_null", "Users", c, "error", True) for c in ("Id", "Name", "Email")]
    return report([table("Users", 1200, checks=passing), table("Tags", 64_000, ranges=1)])


@pytest.fixture
def mismatching() -> dict:
    posts_range = {
        "range": "Posts#2 (85000, 127500]",
        "lo": 85000,
        "hi": 127500,
        "source_rows": 42500,
        "target_rows": 42499,
        "missing": MISSING,
        "extra": [],
        "changed": [90001],
    }
    posts_checks = [check("not_null", "Posts", f"C{i}", "error", True) for i in range(5)]
    posts_checks.append(check("max_length", "Posts", "Body", "warning", False, "3 over 4000"))
    hostile_checks = [check("fk", HOSTILE, "user|id", "error", False, "1 orphan <b>row</b>")]
    return report(
        [
            table(
                "Posts",
                170_000,
                target_rows=169_999,
                ranges=4,
                matching=3,
                mismatches=[posts_range],
                checks=posts_checks,
            ),
            table(HOSTILE, 5, ranges=1, checks=hostile_checks),
            table("Users", 1200, checks=[check("unique", "Users", "Email", "warning", False)]),
        ],
        checks=[check("row_count_total", None, None, "error", False, "totals differ by 1")],
        ok=False,
    )


class Cells(HTMLParser):
    """Collects every start tag and the (class, text) cells of every table row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.rows: list[list[tuple[str | None, str]]] = []
        self.cell: list | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = [dict(attrs).get("class"), ""]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append((self.cell[0], self.cell[1]))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell[1] += data


def parse(doc: str) -> Cells:
    parser = Cells()
    parser.feed(doc)
    parser.close()
    return parser


def row_for(rows: list[list[tuple]], first: str) -> list[tuple]:
    return next(r for r in rows if r and r[0][1] == first)


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_matching_report(matching: dict) -> None:
    md = to_markdown(matching)
    lines = md.splitlines()
    assert lines[0] == (
        r"# Verification: postgresql://postgres:\*\*\*@host/db -> mysql+pymysql://root:\*\*\*@host/db"
    )
    assert "**MATCH**: 2 tables match; no checks failing" in lines
    assert "Started 2026-11-25T02:10:00+00:00, took 12.3 s." in lines
    assert "| Users | 1,200 | 1,200 | 2/2 | 0 | 3 passed | canonical | MATCH |" in lines
    assert "| Tags | 64,000 | 64,000 | 1/1 | 0 | none | canonical | MATCH |" in lines
    assert "No mismatching ranges." in lines
    assert "No failing checks." in lines
    assert "MISMATCH" not in md


def test_markdown_mismatching_rows_and_verdicts(mismatching: dict) -> None:
    lines = to_markdown(mismatching).splitlines()
    assert "**MISMATCH**: 1 of 3 tables differ; 4 checks failing (2 errors, 2 warnings)" in lines
    header = (
        "| Table | Source rows | Target rows | Ranges matching | Mismatches | Checks | Method"
        " | Verdict |"
    )
    assert header in lines
    assert (
        "| Posts | 170,000 | 169,999 | 3/4 | 1 | 5 passed, 1 warning | canonical | MISMATCH |"
        in lines
    )
    # the data of the hostile table match, but an error-severity check failed
    assert (
        r"| a\|b\<script>alert(1)\</script> | 5 | 5 | 1/1 | 0 | 1 error | canonical"
        " | CHECKS FAILED |" in lines
    )
    # a failed warning alone does not change a table's verdict
    assert "| Users | 1,200 | 1,200 | 2/2 | 0 | 1 warning | canonical | MATCH |" in lines


def test_markdown_mismatch_section_truncates_keys(mismatching: dict) -> None:
    md = to_markdown(mismatching)
    section = md.split("## Mismatches")[1].split("## Checks")[0]
    assert "### Posts" in section
    assert "- Posts#2 (85000, 127500\\]: source 42,500 rows, target 42,499 rows" in section
    first_20 = ", ".join(str(k) for k in MISSING[:20])
    assert f"  - missing (25): {first_20} … and 5 more" in section.splitlines()
    assert str(MISSING[20]) not in section  # the 21st key is not listed
    assert "  - changed (1): 90001" in section.splitlines()
    assert "extra" not in section  # empty kinds are left out


def test_markdown_checks_section_lists_failures_errors_first(mismatching: dict) -> None:
    section = to_markdown(mismatching).split("## Checks")[1].strip().splitlines()
    assert section[0] == "| Severity | Check | Table | Column | Detail |"
    body = section[2:]
    assert body == [
        r"| error | fk | a\|b\<script>alert(1)\</script> | user\|id | 1 orphan \<b>row\</b> |",
        "| error | row\\_count\\_total | — | — | totals differ by 1 |",
        "| warning | max\\_length | Posts | Body | 3 over 4000 |",
        "| warning | unique | Users | Email | — |",
    ]
    assert "not\\_null" not in "\n".join(body)  # passing checks are not listed


def test_markdown_cells_survive_pipes_and_newlines() -> None:
    name = "x|y\nz"
    md = to_markdown(report([table(name, 10)]))
    row = next(line for line in md.splitlines() if line.startswith("| x"))
    assert row == r"| x\|y<br>z | 10 | 10 | 2/2 | 0 | none | canonical | MATCH |"


def test_markdown_renders_hostile_names_inert(mismatching: dict) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(to_markdown(mismatching))
    assert "<script" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    tables = parse(rendered).rows
    hostile = row_for(tables, HOSTILE)  # one cell, not split at the pipe
    assert [text for _, text in hostile] == [
        HOSTILE,
        "5",
        "5",
        "1/1",
        "0",
        "1 error",
        "canonical",
        "CHECKS FAILED",
    ]
    assert all(len(r) == 8 for r in tables[: 1 + len(mismatching["tables"])])


def test_markdown_leading_block_markers_are_escaped() -> None:
    md = to_markdown(report([table("# not a heading", 1), table("- not a list", 1)]))
    assert "| \\# not a heading | 1 | 1 |" in md
    assert "| \\- not a list | 1 | 1 |" in md


# --- HTML -------------------------------------------------------------------------------------


def test_html_is_standalone_and_hostile_names_are_inert(mismatching: dict) -> None:
    doc = to_html(mismatching)
    assert doc.startswith("<!DOCTYPE html>\n<html")
    assert doc.rstrip().endswith("</body></html>")
    assert "<script" not in doc.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert "<b>" not in doc  # markup inside a check detail is escaped too
    parsed = parse(doc)
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "strong"}
    assert parsed.tags <= allowed | {"table", "tr", "th", "td", "ul", "li"}
    assert "src=" not in doc and "href=" not in doc and "<link" not in doc


def test_html_table_rows_and_verdict_colours(mismatching: dict) -> None:
    rows = parse(to_html(mismatching)).rows
    assert [text for _, text in rows[0]] == [
        "Table",
        "Source rows",
        "Target rows",
        "Ranges matching",
        "Mismatches",
        "Checks",
        "Method",
        "Verdict",
    ]
    posts = row_for(rows, "Posts")
    assert [t for _, t in posts] == [
        "Posts",
        "170,000",
        "169,999",
        "3/4",
        "1",
        "5 passed, 1 warning",
        "canonical",
        "MISMATCH",
    ]
    assert posts[-1][0] == "bad"
    assert posts[1][0] == "num"
    assert row_for(rows, HOSTILE)[-1] == ("bad", "CHECKS FAILED")
    assert row_for(rows, "Users")[-1] == ("ok", "MATCH")
    severities = [r[0] for r in rows if r and r[0][1] in ("error", "warning")]
    assert severities == [
        ("bad", "error"),
        ("bad", "error"),
        ("warn", "warning"),
        ("warn", "warning"),
    ]


def test_html_headline_and_mismatch_list(mismatching: dict, matching: dict) -> None:
    doc = to_html(mismatching)
    assert '<strong class="bad">MISMATCH</strong>: 1 of 3 tables differ;' in doc
    assert f"<title>sluice verify: {SOURCE} -&gt; {TARGET}</title>" in doc
    assert "<li>changed (1): 90001</li>" in doc
    assert "… and 5 more</li>" in doc
    assert '<strong class="ok">MATCH</strong>: 2 tables match; no checks failing' in to_html(
        matching
    )


# --- log lines --------------------------------------------------------------------------------


def test_summary_lines_are_aligned_and_name_the_ranges(mismatching: dict) -> None:
    lines = summary_lines(mismatching)
    assert lines[0] == (
        f"verify MISMATCH: {SOURCE} -> {TARGET}: 1 of 3 tables differ; 4 checks failing "
        "(2 errors, 2 warnings). Started 2026-11-25T02:10:00+00:00, took 12.3 s."
    )
    width = len(HOSTILE)
    assert lines[1] == (
        f"{'Posts':<{width}}  170,000 -> 169,999 rows  3/4 ranges  canonical  MISMATCH  "
        "(Posts#2 (85000, 127500])"
    )
    assert lines[2] == f"{HOSTILE}        5 ->       5 rows  1/1 ranges  canonical  CHECKS FAILED"
    assert lines[3] == f"{'Users':<{width}}    1,200 ->   1,200 rows  2/2 ranges  canonical  MATCH"
    assert len({line.index(" -> ") for line in lines[1:4]}) == 1
    assert lines[4:] == [
        f"  error: {HOSTILE}.user|id fk: 1 orphan <b>row</b>",
        "  error: (report) row_count_total: totals differ by 1",
        "  warning: Posts.Body max_length: 3 over 4000",
        "  warning: Users.Email unique: ",
    ]


def test_summary_lines_stay_single_lines() -> None:
    lines = summary_lines(
        report([table("evil\nname", 3)], [check("c", "t", None, "error", False, "two\nlines")])
    )
    assert all("\n" not in line for line in lines)
    assert lines[1].startswith("evil\\nname  3 -> 3 rows")
    assert lines[2] == "  error: t c: two\\nlines"


def test_summary_lines_many_mismatching_ranges_are_capped() -> None:
    ranges = [{"range": f"T#{i}", "source_rows": 1, "target_rows": 0} for i in range(5)]
    lines = summary_lines(
        report([table("T", 5, target_rows=0, ranges=5, matching=0, mismatches=ranges)], ok=False)
    )
    assert lines[1].endswith("MISMATCH  (T#0, T#1, T#2, +2 more)")


# --- robustness -------------------------------------------------------------------------------


def test_missing_optional_keys_are_tolerated() -> None:
    bare = {"tables": [{"table": "T", "source_rows": 1000, "target_rows": 1000}]}
    md = to_markdown(bare)
    assert "| T | 1,000 | 1,000 | — | 0 | none | — | MATCH |" in md
    assert "**MATCH**: 1 table match; no checks failing" in md
    assert "Started —, took —." in md
    assert "<td>T</td>" in to_html(bare)
    assert summary_lines(bare)[1] == "T  1,000 -> 1,000 rows  — ranges  —  MATCH"


def test_verdicts_are_derived_when_ok_is_absent() -> None:
    differ = {"tables": [{"table": "T", "source_rows": 10, "target_rows": 9}]}
    assert "**MISMATCH**: 1 of 1 table differ" in to_markdown(differ)
    failing = {"tables": [], "checks": [check("schema", None, None, "error", False)]}
    assert "**MISMATCH**: no tables compared; 1 check failing (1 error)" in to_markdown(failing)
    warned = {"tables": [], "checks": [check("schema", None, None, "warning", False)]}
    assert "**MATCH**: no tables compared; 1 check failing (1 warning)" in to_markdown(warned)


def test_report_ok_flag_is_trusted_over_counts(matching: dict) -> None:
    matching["ok"] = False  # e.g. an error check the producer counted elsewhere
    assert to_markdown(matching).splitlines()[2].startswith("**MISMATCH**")
    assert summary_lines(matching)[0].startswith("verify MISMATCH:")


def test_empty_report_renders_everywhere() -> None:
    assert "No tables compared." in to_markdown({})
    assert "<p>No tables compared.</p>" in to_html({})
    assert summary_lines({}) == [
        "verify MATCH: ? -> ?: no tables compared; no checks failing. Started —, took —."
    ]


def test_producer_ok_false_from_an_error_check_reads_checks_failed() -> None:
    # sluice.verify sets a table's ok to False when an error check fails, even if data match
    failed = check("not_null", "Votes", "UserId", "error", False, "2 NULLs")
    votes = {**table("Votes", 40, checks=[failed]), "ok": False}
    lines = to_markdown(report([votes], ok=False)).splitlines()
    assert "| Votes | 40 | 40 | 2/2 | 0 | 1 error | canonical | CHECKS FAILED |" in lines
    assert "**MISMATCH**: 1 table match; 1 check failing (1 error)" in lines


def test_table_that_could_not_be_verified_shows_its_error() -> None:
    missing = {**table("Badges", 0, ranges=0), "ok": False, "error": "target table is missing"}
    data = report([missing], ok=False)
    assert "| Badges | 0 | 0 | 0/0 | 0 | 1 error | canonical | MISMATCH |" in to_markdown(data)
    assert "| error | verify | Badges | — | target table is missing |" in to_markdown(data)
    assert summary_lines(data)[-1] == "  error: Badges verify: target table is missing"


def test_composite_keys_are_listed_verbatim() -> None:
    rng = {"range": "PostTags#1", "source_rows": 2, "target_rows": 1, "missing": [[7, "sql"]]}
    t = table("PostTags", 2, target_rows=1, ranges=1, matching=0, mismatches=[rng])
    assert "  - missing (1): (7, sql)" in to_markdown(report([t], ok=False)).splitlines()


# --- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "opening"),
    [
        (".html", "<!DOCTYPE html>"),
        (".HTM", "<!DOCTYPE html>"),
        (".md", "# Verification: "),
        (".markdown", "# Verification: "),
        (".json", '{\n  "source": '),
    ],
)
def test_write_report_dispatches_on_suffix(tmp_path, mismatching, suffix, opening) -> None:
    path = tmp_path / "nested" / "dir" / f"report{suffix}"
    write_report(mismatching, str(path))
    text = path.read_text(encoding="utf-8")
    assert text.startswith(opening)
    if suffix == ".json":
        assert json.loads(text) == mismatching


def test_write_report_json_keeps_unicode(tmp_path) -> None:
    data = report([table("Ünïcödé_表", 1)])
    write_report(data, tmp_path / "r.json")
    assert '"table": "Ünïcödé_表"' in (tmp_path / "r.json").read_text(encoding="utf-8")


def test_write_report_rejects_unknown_suffix(tmp_path, matching) -> None:
    path = tmp_path / "sub" / "report.txt"
    with pytest.raises(ConfigError) as caught:
        write_report(matching, path)
    message = str(caught.value)
    assert "report.txt" in message
    for suffix in (".html", ".htm", ".md", ".markdown", ".json"):
        assert suffix in message
    assert not path.exists()


def test_changed_keys_are_shown_with_their_columns(mismatching: dict) -> None:
    m = mismatching["tables"][0]["mismatches"][0]
    m["changed"], m["changed_columns"] = [90001, 90002], [["Score", "Body"], []]
    lines = to_markdown(mismatching).splitlines()
    assert "  - changed (2): 90001 (Score, Body), 90002" in lines
    assert "<li>changed (2): 90001 (Score, Body), 90002</li>" in to_html(mismatching)


@pytest.mark.parametrize("name", ["report.html", ".html", "r.md", ".json", "a/b/run.JSON"])
def test_render_report_is_what_write_report_writes(tmp_path, mismatching, name) -> None:
    """The text for a name or a bare suffix, without a local path: what object storage gets."""
    path = tmp_path / ("r" + name if name.startswith(".") else name)
    write_report(mismatching, path)
    assert render_report(mismatching, name) == path.read_text(encoding="utf-8")


def test_render_report_rejects_unknown_suffix(matching) -> None:
    with pytest.raises(ConfigError, match=r"'latest\.txt'.*\.json"):
        render_report(matching, "latest.txt")
