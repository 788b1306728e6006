"""`sluice sync` killed with SIGKILL while it reads changes, applies them and deletes: the
rerun leaves the replica verified equal to the source, and a further sync moves nothing.

Each round changes the source (inserts, updates, deletes across tables), starts a sync with
debug logging, waits for the line of the phase aimed at, waits a seeded random moment more,
and kills it. Data and watermark are committed together, so whatever the killed run applied
the rerun neither skips nor double-applies."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest
from tests.conftest import _fresh

from sluice.copy import CopyOptions, copy_database
from sluice.datasets.stackoverflow.generate import generate
from sluice.dialects import get_dialect
from sluice.sync import sync_database
from sluice.verify import VerifyOptions, verify_database

SEED = 8
PHASES = ["reading changes", "applying", "comparing key ranges", "applying", "reading changes",
          "comparing key ranges"]  # fmt: skip


def _change(url, round_: int) -> None:
    d = get_dialect(url.engine)
    conn = d.connect(url)
    q = d.quote
    try:
        cur = conn.cursor()
        stamp = f"TIMESTAMP '2031-01-01' + INTERVAL '{round_} hour'"
        cur.execute(
            f"UPDATE {q('Posts')} SET {q('Score')} = {q('Score')} + 1, "
            f"{q('LastActivityDate')} = {stamp} WHERE {q('Id')} % 3 = {round_ % 3}"
        )
        cur.execute(
            f"INSERT INTO {q('Votes')} ({q('Id')}, {q('PostId')}, {q('VoteTypeId')}, "
            f"{q('CreationDate')}) OVERRIDING SYSTEM VALUE SELECT m + g, 1, 2, {stamp} "
            f"FROM (SELECT MAX({q('Id')}) m FROM {q('Votes')}) x, "
            "generate_series(1, 2000) g"
        )
        cur.execute(f"DELETE FROM {q('Comments')} WHERE {q('Id')} % 50 = {round_}")
        conn.commit()
    finally:
        conn.close()


def _sync_killed(source, target, phase: str, delay: float) -> str:
    cmd = [sys.executable, "-m", "sluice.cli", "-v", "sync", "--source", source.render_secret(),
           "--target", target.render_secret()]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if phase in line:
            time.sleep(delay)
            break
    proc.kill()
    proc.wait(timeout=30)
    assert any(phase in line for line in seen), "the sync never reached " + phase
    return seen[-1].strip()


@pytest.mark.slow
def test_sync_killed_in_every_phase_then_rerun_is_exact(pg_server, pg_db):
    gen = _fresh(pg_server, "sluice_crashsrc")
    source = next(gen)
    try:
        generate(source, 0.01)
        assert copy_database(source, pg_db, CopyOptions(workers=2)).ok
        sync_database(source, pg_db)  # the first state rows
        rng = random.Random(SEED)
        for round_, phase in enumerate(PHASES):
            _change(source, round_)
            _sync_killed(source, pg_db, phase, rng.uniform(0, 0.15))
            sync_database(source, pg_db)
            report = verify_database(source, pg_db, VerifyOptions(checks=False))
            assert report.ok, (phase, [m.chunk.label for t in report.tables for m in t.mismatches])
            assert sync_database(source, pg_db).moved == 0, phase
    finally:
        next(gen, None)
