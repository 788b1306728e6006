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
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database
from tests.conftest import drop_database, stackoverflow_db
from tests.integration.test_copy_stackoverflow import next_identity_ok

SCALE = 0.01
SEED = 20261201
KILLS = 20
# kills wanted per phase, in proportion to what can go wrong in it (sums to KILLS)
QUOTA = {"plan/prepare": 2, "copy": 7, "publish": 6, "identities": 4, "exit": 1}
QUOTA_MARIADB = {"copy": 1, "publish": 2, "identities": 1}  # fewer: a MariaDB run is slower
RERUN_EVERY = 4  # kills between reruns to completion; the other kills hit a killed run's leftovers
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


Window = tuple[re.Pattern | str | None, float]


def windows(run: Run) -> dict[str, list[Window]]:
    """Per phase, the moments to aim at: a line that opens it and how long it then lasted in
    a clean run. Publishing is aimed at per table (its key build to its swap's end): the
    tables' publishes are short and interleave with other tables' chunks."""
    timed = run.lines
    end = timed[-1][0]

    def first(needle) -> float:
        return next(t for t, text in timed if _matches(needle, text))

    def last(needle) -> float:
        return max(t for t, text in timed if _matches(needle, text))

    chunk = re.compile(r"DEBUG \w+#\d+ .*: copying")
    committed = re.compile(r"DEBUG \w+#\d+ .*: committed")
    publish = []
    for table in TABLE_NAMES:
        build = re.compile(rf"DEBUG {table}: building the key")
        publish.append((build, first(f"INFO {table}: published") - first(build)))
    return {
        "plan/prepare": [(None, first(chunk))],
        "copy": [(chunk, last(committed) - first(chunk))],
        "publish": publish,
        "identities": [(_FINISH, first(_ALIGNED) - first(_FINISH))],
        "exit": [(_ALIGNED, end - first(_ALIGNED))],
    }


def live_state(target, probe, want: dict) -> dict[str, str]:
    """Per table: 'absent', 'complete' (its fingerprint equals the complete replica's) or what
    differs. Staging tables are not looked at: they are not what readers see."""
    state = {}
    for table in TABLE_NAMES:
        got = probe(target, table)
        if got is None:
            state[table] = "absent"
        else:
            state[table] = "complete" if got == want[table] else f"PARTIAL {got} != {want[table]}"
    return state


def pg_fingerprint(url, table: str) -> tuple | None:
    """Count and the sum of 64-bit hashes of every row's text; None without the table."""
    d = get_dialect("postgresql")
    with d.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (d.quote(table),)).fetchone()[0] is None:
            return None
        sql = ("SELECT count(*), coalesce(sum(hashtextextended(r::text, 0)::numeric), 0)::text "
               f"FROM {d.quote(table)} AS r")  # fmt: skip
        return tuple(conn.execute(sql).fetchone())


def mysql_fingerprint(url, table: str) -> tuple | None:
    """Count and CHECKSUM TABLE (compared with a complete replica made by the same code)."""
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                    "DATABASE() AND TABLE_NAME = %s", (table,))  # fmt: skip
        if not cur.fetchone()[0]:
            return None
        cur.execute(f"SELECT COUNT(*) FROM {d.quote(table)}")
        count = cur.fetchone()[0]
        cur.execute(f"CHECKSUM TABLE {d.quote(table)}")
        return count, cur.fetchone()[1]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def so_source(pg_server):
    yield from stackoverflow_db(pg_server, "sluice_kill_src", SCALE)


def test_kill9_at_20_moments_leaves_whole_tables_and_rerun_verifies(so_source, pg_db):
    clean_target = pg_db.with_database(pg_db.database + "_clean")
    try:
        clean = Run(so_source, clean_target)
        assert clean.finish() == 0, "\n".join(clean.snapshot())
        spans = windows(clean)
    finally:
        drop_database(clean_target)
    want = {t: pg_fingerprint(so_source, t) for t in TABLE_NAMES}
    assert all(want.values())
    assert sum(QUOTA.values()) == KILLS
    landed = kill_loop(so_source, pg_db, spans, QUOTA, pg_fingerprint, want, "PostgreSQL")
    assert landed["plan/prepare"] and landed["identities"], dict(landed)


def test_kill9_into_mariadb(so_source, mysql_db):
    """Fewer kills (time): MariaDB has no transactional DDL; the swap is one RENAME TABLE."""
    clean_target = mysql_db.with_database(mysql_db.database + "_clean")
    try:
        clean = Run(so_source, clean_target)
        assert clean.finish() == 0, "\n".join(clean.snapshot())
        spans = windows(clean)
        report = verify_database(so_source, clean_target, VerifyOptions(checks=False))
        assert report.ok  # the reference replica is the source's content
        want = {t: mysql_fingerprint(clean_target, t) for t in TABLE_NAMES}
    finally:
        drop_database(clean_target)
    kill_loop(so_source, mysql_db, spans, QUOTA_MARIADB, mysql_fingerprint, want, "MariaDB")


def kill_loop(source, target, spans, quota, probe, want, label: str) -> collections.Counter:
    """Kill runs until sum(quota) kills landed, checking every table after each; rerun to
    completion every RERUN_EVERY kills and at the end; then `sluice verify`."""
    started = time.monotonic()
    order = list(quota)
    total = sum(quota.values())
    rng = random.Random(SEED)
    landed: collections.Counter[str] = collections.Counter()
    aimed: collections.Counter[str] = collections.Counter()
    states: collections.Counter[str] = collections.Counter()
    shrink = dict.fromkeys(order, 1.0)  # a phase overshot (it ended first) is aimed earlier
    missed = reruns = 0
    while (kills := sum(landed.values())) < total:
        assert missed < total, f"{missed} runs ended before their kill"
        aim = rng.choice([p for p in order if landed[p] < quota[p]] or order)
        needle, span = rng.choice(spans[aim])
        run = Run(source, target)
        if not run.wait_for(needle):
            missed += 1
            shrink[aim] /= 2
            continue
        time.sleep(rng.uniform(0, max(span * shrink[aim], 0.002)))
        where = phase_of(run.snapshot())
        run.proc.kill()  # SIGKILL: no cleanup of any kind runs
        if run.finish() == 0:
            missed += 1  # it completed before the signal: not a kill
            shrink[aim] /= 2
            continue
        aimed[aim] += 1
        landed[where] += 1
        if where in order and order.index(where) > order.index(aim):
            shrink[aim] /= 2
        state = live_state(target, probe, want)
        partial = {t: s for t, s in state.items() if s not in ("absent", "complete")}
        assert not partial, f"kill {kills + 1} during {where}: {partial}"
        states.update(state.values())
        if (kills + 1) % RERUN_EVERY == 0 or kills + 1 == total:  # a rerun completes the job
            rerun = Run(source, target, verbose=False)
            assert rerun.finish() == 0, "\n".join(rerun.snapshot()[-20:])
            assert set(live_state(target, probe, want).values()) == {"complete"}
            reruns += 1
    verify = subprocess.run(
        [sys.executable, "-m", "sluice.cli", "verify", "--source", source.render_secret(),
         "--target", target.render_secret()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    next_identity_ok(target)  # identities realigned after the kills during alignment
    print(
        f"\nkill -9 into {label}: {total} kills landed {dict(landed)}; aimed {dict(aimed)}; "
        f"{missed} runs finished before their kill; tables seen after kills {dict(states)}; "
        f"{reruns} reruns completed; verify passed; {time.monotonic() - started:.1f}s; "
        f"phase lengths in the clean run (s): "
        f"{ {k: round(max(w[1] for w in v), 3) for k, v in spans.items()} }"
    )
    assert landed["copy"] and landed["publish"], dict(landed)
    return landed
