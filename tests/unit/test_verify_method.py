"""Every verify report says which method verified each table: "native" (the servers digested
the ranges in SQL) or "canonical" (sluice digested canonical values client-side)."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from sluice.cli.verify import print_report
from sluice.verify.report import summary_lines, to_html, to_markdown
from sluice.verify.results import TableVerification, VerifyReport

REPORT = VerifyReport(
    source="postgresql://postgres:***@host/src",
    target="postgresql://postgres:***@host/dst",
    started="2026-12-02T10:00:00+00:00",
    seconds=1.0,
    tables=[
        TableVerification("Posts", [], method="native"),
        TableVerification("Users", [], method="canonical"),
    ],
)


def test_markdown_has_a_method_column():
    md = to_markdown(REPORT.to_dict())
    assert (
        "| Table | Source rows | Target rows | Ranges matching | Mismatches | Checks | Method |"
        in md
    )
    assert re.search(r"^\| Posts \|.*\| native \| MATCH \|$", md, re.M)
    assert re.search(r"^\| Users \|.*\| canonical \| MATCH \|$", md, re.M)


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])

    def handle_data(self, data):
        if self.rows and self.lasttag in ("td", "th") and data.strip():
            self.rows[-1].append(data.strip())


def test_html_has_a_method_column():
    cells = _Cells()
    cells.feed(to_html(REPORT.to_dict()))
    head, *rows = cells.rows[:3]
    method = head.index("Method")
    assert {r[0]: r[method] for r in rows} == {"Posts": "native", "Users": "canonical"}


def test_summary_lines_name_the_method():
    lines = summary_lines(REPORT.to_dict())
    assert "native" in lines[1] and lines[1].startswith("Posts")
    assert "canonical" in lines[2] and lines[2].startswith("Users")


def test_cli_table_has_a_method_column():
    out = io.StringIO()
    print_report(REPORT, file=out)
    text = out.getvalue()
    assert "method" in text
    rows = {
        line.split()[1]: line for line in text.splitlines() if re.match(r"^│ (Posts|Users) ", line)
    }
    assert "native" in rows["Posts"] and "canonical" in rows["Users"]
