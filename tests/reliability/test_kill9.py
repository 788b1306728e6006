"""`sluice copy` killed with SIGKILL at 20 random moments of a StackOverflow2010 (scale 0.01)
copy, PostgreSQL -> PostgreSQL: after every kill each live table is the previous complete
replica or absent, never partial; reruns complete and `sluice verify` passes.

The moments are spread over the run's phases: a first clean run, with debug logging, times
each phase from its log lines (chunks copying, keys built and swapped in, identities
aligned); each kill waits for a phase's first line, then a seeded random delay within that
phase's measured length. Where a kill landed is read from the lines seen before it."""

from __future__ import annotations

import collections
import random
import re
import subprocess
import sys
import threading
import time

import pytest

from sluice.datasets.stackoverflow import TABLE_NAMES
from sluice.datasets.stackoverflow.generate import generate, row_counts
from sluice.dialects import get_dialect
from tests.conftest import _fresh

SCALE = 0.01
SEED = 20261201
KILLS = 20
# kills wanted per phase, in proportion to what can go wrong in it (sums to KILLS)
QUOTA = {"plan/prepare": 2, "copy": 7, "publish": 6, "identities": 4, "exit": 1}
ORDER = list(QUOTA)
RERUN_EVERY = 3  # kills between reruns to completion; the other kills hit a killed run's leftovers
COPY_ARGS = ["--workers", "2", "--chunk-rows", "5000"]

_CHUNK = re.compile(r"DEBUG (\w+)#(\d+) .*: (copying|committed)")
_BUILD = re.compile(r"DEBUG (\w+): building the key")
_PUBLISHED = re.compile(r"INFO (\w+): published")
_FINISH = "finish: aligning identity values"
_ALIGNED = re.compile(r"finish: \d+ identity value\(s\) aligned")


class Run:
    """One `sluice copy` subprocess whose output lines are timed as they arrive."""

    def __init__(self, source, target, verbose: bool = True):
        cmd = [sys.executable, "-m", "sluice.cli", *(["-v"] if verbose else []), "copy",
               "--source", source.render_secret(), "--target", target.render_secret(),
               *COPY_ARGS]  # fmt: skip
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self.lines: list[tuple[float, str]] = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append((time.monotonic() - self.started, line.rstrip()))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, needle: re.Pattern | str | None, timeout: float = 60) -> bool:
        """Until a line matches (True) or the process ended first (False)."""
        if needle is None:
            return True
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if any(_matches(needle, text) for _, text in self.lines):
                    return True
                if self.proc.poll() is not None and not self.reader.is_alive():
                    return False
                assert time.monotonic() < deadline, "the copy never reached its phase"
                self.cond.wait(0.005)

    def snapshot(self) -> list[str]:
        with self.cond:
            return [text for _, text in self.lines]

    def finish(self, timeout: float = 120) -> int:
        rc = self.proc.wait(timeout)
        self.reader.join(10)
        return rc


def _matches(needle, text: str) -> bool:
    return bool(needle.search(text)) if isinstance(needle, re.Pattern) else needle in text


def phase_of(lines: list[str]) -> str:
    """Where the copy was, from its log lines: exit (identities aligned; summary, exit) >
    identities > publish (a table's key built or swapped in) > copy > plan/prepare."""
    if any(_ALIGNED.search(t) for t in lines):
        return "exit"
    if any(_FINISH in t for t in lines):
        return "identities"
    building = {m.group(1) for t in lines if (m := _BUILD.search(t))}
    published = {m.group(1) for t in lines if (m := _PUBLISHED.search(t))}
    if building - published:
        return "publish"
    if any(_CHUNK.search(t) for t in lines):
        return "copy"
    return "plan/prepare"


def windows(run: Run) -> dict[str, tuple[re.Pattern | str | None, float]]:
    """Per phase: the line that opens it and how long it lasted in a clean run."""
    timed = run.lines
    end = timed[-1][0]

    def first(needle) -> float:
        return next(t for t, text in timed if _matches(needle, text))

    def last(needle) -> float:
        return max(t for t, text in timed if _matches(needle, text))

    chunk = re.compile(r"DEBUG \w+#\d+ .*: copying")
    committed = re.compile(r"DEBUG \w+#\d+ .*: committed")
    return {
        "plan/prepare": (None, first(chunk)),
        "copy": (chunk, last(committed) - first(chunk)),
        "publish": (_BUILD, last(_PUBLISHED) - first(_BUILD)),
        "identities": (_FINISH, first(_ALIGNED) - first(_FINISH)),
        "exit": (_ALIGNED, end - first(_ALIGNED)),
    }


def live_state(source, target) -> dict[str, str]:
    """Per table: 'absent', 'complete' (count and row hashes equal the source's) or what
    differs. Staging tables are not looked at: they are not what readers see."""
    d = get_dialect("postgresql")
    want = {t: _table_digest(d, source, t) for t in TABLE_NAMES}
    state = {}
    with d.connect(target) as conn:
        for table in TABLE_NAMES:
            if conn.execute("SELECT to_regclass(%s)", (d.quote(table),)).fetchone()[0] is None:
                state[table] = "absent"
                continue
            got = _table_digest(d, target, table, conn)
            state[table] = "complete" if got == want[table] else f"PARTIAL {got} != {want[table]}"
    return state


_digests: dict[tuple[str, str], tuple[int, str]] = {}


def _table_digest(d, url, table: str, conn=None) -> tuple[int, str]:
    """Count and the sum of 64-bit hashes of every row's text (same types on both sides)."""
    key = (str(url), table)
    if conn is None and key in _digests:
        return _digests[key]
    sql = (f"SELECT count(*), coalesce(sum(hashtextextended(r::text, 0)::numeric), 0)::text "
           f"FROM {d.quote(table)} AS r")  # fmt: skip
    if conn is None:
        with d.connect(url) as own:
            _digests[key] = tuple(own.execute(sql).fetchone())
        return _digests[key]
    row = tuple(conn.execute(sql).fetchone())
    conn.rollback()
    return row


@pytest.fixture(scope="module")
def so_source(pg_server):
    gen = _fresh(pg_server, "sluice_kill_src")
    url = next(gen)
    generate(url, SCALE)
    yield url
    next(gen, None)


def test_kill9_at_20_moments_leaves_whole_tables_and_rerun_verifies(so_source, pg_db):
    started = time.monotonic()
    clean_target = pg_db.with_database(pg_db.database + "_clean")
    try:
        clean = Run(so_source, clean_target)
        assert clean.finish() == 0, "\n".join(clean.snapshot())
        spans = windows(clean)
    finally:
        from tests.conftest import drop_database

        drop_database(clean_target)
    rng = random.Random(SEED)
    landed: collections.Counter[str] = collections.Counter()
    aimed: collections.Counter[str] = collections.Counter()
    states: collections.Counter[str] = collections.Counter()
    shrink = dict.fromkeys(ORDER, 1.0)  # a phase overshot (it ended first) is aimed earlier
    missed = reruns = 0
    while (kills := sum(landed.values())) < KILLS:
        assert missed < KILLS, f"{missed} runs ended before their kill"
        aim = rng.choice([p for p in ORDER if landed[p] < QUOTA[p]] or ORDER)
        needle, span = spans[aim]
        run = Run(so_source, pg_db)
        if not run.wait_for(needle):
            missed += 1
            continue
        time.sleep(rng.uniform(0, max(span * shrink[aim], 0.002)))
        where = phase_of(run.snapshot())
        run.proc.kill()  # SIGKILL: no cleanup of any kind runs
        if run.finish() == 0:
            missed += 1  # it completed before the signal: not a kill
            continue
        aimed[aim] += 1
        landed[where] += 1
        if ORDER.index(where) > ORDER.index(aim):
            shrink[aim] /= 2
        state = live_state(so_source, pg_db)
        partial = {t: s for t, s in state.items() if s not in ("absent", "complete")}
        assert not partial, f"kill {sum(landed.values())} during {where}: {partial}"
        states.update(state.values())
        if (kills + 1) % RERUN_EVERY == 0 or kills + 1 == KILLS:  # a rerun completes the job
            rerun = Run(so_source, pg_db, verbose=False)
            assert rerun.finish() == 0, "\n".join(rerun.snapshot()[-20:])
            assert set(live_state(so_source, pg_db).values()) == {"complete"}
            reruns += 1
    verify = subprocess.run(
        [sys.executable, "-m", "sluice.cli", "verify", "--source", so_source.render_secret(),
         "--target", pg_db.render_secret()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    print(
        f"\nkill -9: {sum(landed.values())} kills landed {dict(landed)}; "
        f"aimed {dict(aimed)}; "
        f"{missed} runs finished before their kill; tables seen after kills {dict(states)}; "
        f"{reruns} reruns completed; verify passed; {time.monotonic() - started:.1f}s; "
        f"phase lengths in the clean run (s): "
        f"{ {k: round(v[1], 3) for k, v in spans.items()} }"
    )
    assert landed["copy"] and landed["publish"] and landed["identities"], dict(landed)
    assert sum(row_counts(SCALE).values()) > 100_000
