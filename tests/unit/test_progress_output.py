"""What a person reads while and after copying: counts never cut, rates per table over its own
active time, bytes moving before the first raw chunk commits, an 80-column plan, whole URLs,
warnings that name their chunk once, and a summary that says what its MB measure."""

from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import replace

import pytest
from rich.console import Console

from sluice.cli.copy import MB_NOTE, print_summary
from sluice.cli.plan import print_plan
from sluice.cli.verify import print_report
from sluice.copy.plan import Chunk, plan_tables
from sluice.copy.run import CopyResult, TableSummary
from sluice.copy.transfer import retrying
from sluice.core.errors import TerminalError, TransientError
from sluice.core.progress import Reporter
from sluice.datasets.stackoverflow import ROW_COUNTS, TABLES
from sluice.datasets.stackoverflow.generate import key
from sluice.verify.results import TableVerification, VerifyReport

LONG_SOURCE = "mssql+pymssql://replication_reader:***@mssql-source.internal.example.com:1433/StackOverflow2010"
LONG_TARGET = (
    "postgresql://postgres:***@postgres-target.internal.example.com:5432/stackoverflow_target"
)


def offline_plan(target_engine: str):
    stats = {name: (1, key(n - 1), n) for name, n in ROW_COUNTS.items()}
    return plan_tables(list(TABLES.values()), stats, "mssql", target_engine, LONG_SOURCE,
                       LONG_TARGET)  # fmt: skip


def lines_of(text: str) -> list[str]:
    return text.rstrip("\n").splitlines()


@pytest.mark.parametrize("target", ["postgresql", "mysql", "sqlite"])
def test_plan_fits_80_columns_and_keeps_names_and_urls_whole(target):
    plan = offline_plan(target)
    out = io.StringIO()
    print_plan(plan, file=out, width=80)
    text = out.getvalue()
    url_lines = {LONG_SOURCE, LONG_TARGET}
    too_wide = [ln for ln in lines_of(text) if len(ln) > 80 and ln.split()[-1] not in url_lines]
    assert too_wide == []
    # each URL whole on a line of its own (longer than 80: the terminal folds it, not rich)
    assert f"  source {LONG_SOURCE}" in lines_of(text)
    assert f"  target {LONG_TARGET}" in lines_of(text)
    words = set(re.findall(r"[\w]+", text))
    for t in plan.tables:
        assert t.name in words
        for c in t.columns:
            assert c.name in words, f"{t.name}.{c.name} cut in the plan"


def render_progress(work) -> str:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    with Reporter(live=True, console=console) as reporter:
        work(reporter)
    return out.getvalue()


def test_progress_counts_are_never_cut_at_80_columns():
    def work(r: Reporter) -> None:
        for name in ("PostHistory", "AVeryLongTableNameThatWouldPushTheCountsOffTheLine"):
            r.start(name, 1_400_000)
            r.advance(name, 1_400_000, 123_456_789)

    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", render_progress(work)).replace("\r", "\n")
    for prefix in ("PostHistory", "AVeryLong"):
        final = [ln for ln in text.splitlines() if ln.startswith(prefix[:7])][-1]
        assert "1,400,000/1,400,000" in final and "123.5 MB" in final, final
        assert "rows/s" in final and len(final) <= 80, final


def test_raw_bytes_show_as_bytes_moving_not_zero_rows():
    r = Reporter(live=False)
    r.start("Votes", 4_300_000)
    r.advance("Votes", 0, 8_000_000)  # a raw chunk streaming: rows counted when it commits
    assert r.rate("Votes").endswith("MB/s")
    assert "rows/s" not in r.rate("Votes")
    r.advance("Votes", 250_000, 0)  # the chunk committed: rows counted by the target
    assert r.rate("Votes").endswith("rows/s")


def test_rate_is_measured_over_the_tables_own_active_time():
    r = Reporter(live=False)
    r.start("VoteTypes", 15)  # planned at the start of the run ...
    time.sleep(1.0)  # ... while other tables copy
    r.begin("VoteTypes")  # its first chunk starts
    r.advance("VoteTypes", 15)
    r.finish("VoteTypes", 15)
    assert r.elapsed("VoteTypes") < 1.0  # the wait before its chunk is not its time


def test_a_retry_warning_names_its_chunk_once(caplog):
    chunk = Chunk("Votes", 3, 1000, 2000)
    tries = []

    def flaky():
        tries.append(1)
        raise TransientError(f"{chunk.label}: connection reset by peer")

    with caplog.at_level(logging.WARNING, logger="sluice"), pytest.raises(TerminalError) as err:
        retrying(chunk, flaky, retries=1, backoff=0)
    assert len(tries) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and all(w.count(chunk.label) == 1 for w in warnings), warnings
    assert "connection reset by peer" in warnings[0]
    assert str(err.value).count(chunk.label) == 1


def test_summary_says_what_mb_means_per_path():
    plan = offline_plan("postgresql")
    tables = list(plan.tables)
    tables[0] = replace(tables[0], passthrough=True, raw_format="postgresql-binary")
    plan = replace(plan, tables=tuple(tables))
    summaries = {t.name: TableSummary(t.name, rows=10, bytes=2_000_000, chunks=1, published=True)
                 for t in plan.tables}  # fmt: skip
    out = io.StringIO()
    print_summary(CopyResult(plan, summaries, None, 1.0), file=out, width=80)
    text = out.getvalue()
    assert "MB read" in text and MB_NOTE.split(":")[0] in text
    rows = {ln.split()[1]: ln for ln in lines_of(text) if ln.startswith("│ ")}
    assert " raw " in rows[tables[0].name] and " decoded " in rows[tables[1].name]
    assert all(len(ln) <= 80 for ln in lines_of(text))


def test_verify_table_keeps_urls_whole():
    report = VerifyReport(LONG_SOURCE, LONG_TARGET, "2026-12-02T10:00:00+00:00", 1.0,
                          [TableVerification("Users", [], method="native")])  # fmt: skip
    out = io.StringIO()
    print_report(report, file=out, width=80)
    assert f"  source {LONG_SOURCE}" in lines_of(out.getvalue())
    assert f"  target {LONG_TARGET}" in lines_of(out.getvalue())
