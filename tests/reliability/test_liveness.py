"""Liveness: a copy never hangs on a stalled network, survives a reset and a server restart
inside its retry deadline, and past it ends with one line naming the side and the host.

Every run is `python -m sluice.cli copy` in its own process, through a TCP relay the test
controls (tests/reliability/relay.py) or against a PostgreSQL server of the test's own that
it stops and starts. Faults land at seeded random instants: after a random number of bytes
went through the relay (mid-COPY), or a random delay after the first chunk started. After
every run: the process ended within its bound, the target's table equals the source's
(`verify_database`), and no staging table is left."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.copy.staging import PREFIX
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow.generate import generate
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database
from tests.conftest import _fresh, drop_database
from tests.reliability.relay import Relay

TABLE = "Votes"  # 43,000 rows at scale 0.01: several chunks of 8,000
STALL = 3
SEED = 20261223
ROOT = Path(__file__).resolve().parents[2]
COPY = ["--tables", TABLE, "--workers", "2", "--chunk-rows", "8000", "--memory-cap", "2MiB",
        "--stall-timeout", str(STALL), "--connect-timeout", "5"]  # fmt: skip


def source_db(server: DbUrl, prefix: str, scale: float = 0.01):
    gen = _fresh(server, prefix)
    url = next(gen)
    generate(url, scale, tables=[TABLE])
    return url, gen


@pytest.fixture(scope="module")
def pg_source(pg_server):
    url, gen = source_db(pg_server, "sluice_live_src")
    yield url
    next(gen, None)


@pytest.fixture(scope="module")
def mysql_source(mysql_server):
    url, gen = source_db(mysql_server, "sluice_live_src")
    yield url
    next(gen, None)


def via(relay: Relay, url: DbUrl) -> str:
    """`url` with its host and port replaced by the relay's (a socket folder dropped)."""
    relayed = url.url.difference_update_query(["host"]).set(host="127.0.0.1", port=relay.port)
    return relayed.render_as_string(hide_password=False)


class Run:
    """`sluice -v copy` (or another `command`) in its own process; stderr collected line by
    line as it comes."""

    def __init__(self, source: str, target: str, *args: str, command: str = "copy",
                 base: tuple[str, ...] | list[str] = tuple(COPY)):  # fmt: skip
        cmd = [sys.executable, "-m", "sluice.cli", "-v", command, "--source", source,
               "--target", target, *base, *args]  # fmt: skip
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._collect, daemon=True)
        self.reader.start()

    def _collect(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, "\n".join(self.lines[-30:])
            assert time.monotonic() < end, f"no {text!r} in:\n" + "\n".join(self.lines[-30:])
            time.sleep(0.02)

    def finish(self, timeout: float) -> tuple[int, float, str]:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # every thread's stack, for the failure
            time.sleep(1)
            self.proc.kill()
            self.proc.wait()
            tail = "\n".join(self.lines[-150:])
            pytest.fail(f"copy still running after {timeout:.0f}s:\n{tail}")
        seconds = time.monotonic() - self.started
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        return code, seconds, "\n".join(self.lines)


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def staging_left(target: DbUrl) -> list[str]:
    d = get_dialect(target.engine)
    conn = d.connect(target)
    try:
        cur = conn.cursor()
        schema = "public" if target.engine == "postgresql" else target.database
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                    f"'{schema}'")  # fmt: skip
        names = [r[0] for r in cur.fetchall()]
        conn.rollback()
    finally:
        conn.close()
    return [n for n in names if n.startswith(PREFIX)]


def assert_exact(source: DbUrl, target: DbUrl) -> None:
    report = verify_database(source, target, VerifyOptions(tables=[TABLE], checks=False))
    assert report.ok, report.tables[0].to_dict()
    assert report.tables[0].target_rows == report.tables[0].source_rows > 0
    assert staging_left(target) == []


@contextlib.contextmanager
def relayed_source(source: DbUrl, server: DbUrl) -> Iterator[tuple[Relay, DbUrl]]:
    """A relay to `source` and a fresh target database on `server`; both gone after."""
    gen = _fresh(server, "sluice_live_dst")
    target = next(gen)
    relay = Relay.to(source)
    try:
        yield relay, target
    finally:
        relay.close()
        time.sleep(0.2)  # the server sees the RSTs before its database is dropped
        next(gen, None)


# --- stalled and reset connections, through the relay ---------------------------------------

CASES = {
    # name: (source engine, target engine, the relayed side, bytes direction on the relay)
    "pg-source-stalled": ("pg", "pg", "source", "down", "freeze"),
    "pg-target-stalled": ("pg", "pg", "target", "up", "freeze"),
    "mariadb-source-stalled": ("mysql", "pg", "source", "down", "freeze"),
    "mariadb-target-stalled": ("pg", "mysql", "target", "up", "freeze"),
    "pg-source-reset": ("pg", "pg", "source", "down", "reset"),
    "pg-target-reset": ("pg", "pg", "target", "up", "reset"),
    "mariadb-source-reset": ("mysql", "pg", "source", "down", "reset"),
    "mariadb-target-reset": ("pg", "mysql", "target", "up", "reset"),
}
RUNS = int(os.environ.get("SLUICE_FAULT_RUNS", "2"))  # seeded instants per case (make soak)


@pytest.mark.parametrize("case", list(CASES))
def test_fault_mid_copy_is_retried_and_the_copy_completes(case, request, tmp_path):
    src_engine, dst_engine, side, direction, fault = CASES[case]
    source = request.getfixturevalue("pg_source" if src_engine == "pg" else "mysql_source")
    server = request.getfixturevalue("pg_server" if dst_engine == "pg" else "mysql_server")
    rng = random.Random(f"{SEED}-{case}")
    for run in range(RUNS):
        gen = _fresh(server, "sluice_live_dst")
        target = next(gen)
        relayed = source if side == "source" else target
        relay = Relay.to(relayed)
        try:
            # a random instant mid-COPY: after 80 KiB to 1 MiB of the chunks' bytes
            after = rng.randint(80 << 10, 1 << 20)
            relay.trigger(direction, after, relay.freeze if fault == "freeze" else relay.reset)
            src = via(relay, source) if side == "source" else source.render_secret()
            dst = via(relay, target) if side == "target" else target.render_secret()
            copy = Run(src, dst)
            code, seconds, err = copy.finish(timeout=90)
            assert relay.fired, f"the fault never fired ({relay.moved}):\n{err[-3000:]}"
            after_fault = time.monotonic() - relay.fired[0]
            print(
                f"{case} run {run}: fault after {after:,} bytes {direction}, exit {code}, "
                f"{seconds:.1f}s in all, ended {after_fault:.1f}s after the fault"
            )
            assert code == 0, err[-3000:]
            assert "retrying" in err, err[-3000:]
            if fault == "freeze":
                assert "moved no byte" in err and f"stall timeout {STALL}s" in err, err[-3000:]
                assert after_fault <= STALL + 10, after_fault
            assert_exact(source, target)
        finally:
            relay.close()
            time.sleep(0.2)  # the server sees the RSTs before its database is dropped
            next(gen, None)


@pytest.mark.parametrize("engine", ["pg", "mysql"])
def test_stall_past_the_deadline_is_one_line_naming_the_side(engine, request, pg_server):
    """New connections freeze too (TCP connects, the handshake never answers), and the
    deadline is short: one `error:` line naming the source and the relay's host, within
    stall + deadline + 10 s; nothing published."""
    source = request.getfixturevalue("pg_source" if engine == "pg" else "mysql_source")
    with relayed_source(source, pg_server) as (relay, target):

        def freeze_all():
            relay.freeze_new = True
            relay.freeze()

        relay.trigger("down", 300 << 10, freeze_all)
        copy = Run(via(relay, source), target.render_secret(), "--retry-deadline", "4")
        code, seconds, err = copy.finish(timeout=90)
        after_fault = time.monotonic() - relay.fired[0]
        print(f"stalled past the deadline: exit {code} {after_fault:.1f}s after the fault")
        assert code == 1, err[-3000:]
        lines = errors(err)
        assert len(lines) == 1, err[-3000:]
        assert f"error: source 127.0.0.1:{relay.port}/" in lines[0], lines[0]
        assert "the connection to the source was lost" in lines[0] and "tries)" in lines[0]
        assert "target: untouched" in lines[0], lines[0]
        assert after_fault <= STALL + 4 + 5 + 10, err  # stall, deadline, a connect timeout
        assert staging_left(target) == []


# --- a server restarted ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_pg(own_pg_server):
    url = DbUrl.parse(own_pg_server.url).with_database("restart_src")
    get_dialect("postgresql").ensure_database(url)
    generate(url, 0.05, tables=[TABLE])  # 215,000 rows: the copy lasts a few seconds
    yield own_pg_server, url
    drop_database(url)


@pytest.mark.parametrize("run", range(3))
def test_source_restarted_within_the_deadline_completes_exact(own_pg, pg_server, run):
    server, source = own_pg
    rng = random.Random(f"{SEED}-restart-{run}")
    gen = _fresh(pg_server, "sluice_live_dst")
    target = next(gen)
    try:
        copy = Run(source.render_secret(), target.render_secret(), "--workers", "1",
                   "--chunk-rows", "2000")  # fmt: skip
        # a random instant among the 108 chunks: as chunk k starts
        k = rng.randint(2, 80)
        copy.wait_for(f"Votes#{k} ")
        server.stop("fast")
        down = rng.uniform(2, 6)
        time.sleep(down)
        server.start()
        code, seconds, err = copy.finish(timeout=120)
        print(f"restart run {run}: stopped at chunk {k}, down {down:.1f}s, exit {code}, "
              f"{seconds:.1f}s in all")  # fmt: skip
        assert code == 0, err[-3000:]
        assert "retrying" in err, err[-3000:]  # the stop landed mid-copy
        assert_exact(source, target)
    finally:
        next(gen, None)


def test_source_down_past_the_deadline_is_one_line_naming_the_side(own_pg, pg_server):
    server, source = own_pg
    gen = _fresh(pg_server, "sluice_live_dst")
    target = next(gen)
    try:
        copy = Run(source.render_secret(), target.render_secret(), "--workers", "1",
                   "--chunk-rows", "2000", "--retry-deadline", "5")  # fmt: skip
        copy.wait_for("Votes#5 ")
        server.stop("fast")
        stopped = time.monotonic()
        try:
            code, seconds, err = copy.finish(timeout=60)
        finally:
            server.start()
        print(f"down past the deadline: exit {code}, {time.monotonic() - stopped:.1f}s after stop")
        assert code == 1, err[-3000:]
        lines = errors(err)
        assert len(lines) == 1, err[-3000:]
        assert f"error: source 127.0.0.1:{server.port}/" in lines[0], lines[0]
        assert "the connection to the source was lost" in lines[0] and "tries)" in lines[0]
        assert "target: untouched" in lines[0], lines[0]
        assert time.monotonic() - stopped <= 5 + 15 + 10
        assert staging_left(target) == []
    finally:
        next(gen, None)


@pytest.mark.parametrize("engine", ["pg", "mysql"])
def test_source_lost_while_planning_says_the_target_is_untouched(engine, request, pg_server):
    """A source that drops every connection while the catalogue is read (before the first
    chunk): one line naming the source, and the target's state, which is untouched."""
    source = request.getfixturevalue("pg_source" if engine == "pg" else "mysql_source")
    with relayed_source(source, pg_server) as (relay, target):
        # a few catalogue replies in (planning): every connection reset, new ones refused
        relay.trigger("down", 2000, relay.close)
        copy = Run(via(relay, source), target.render_secret(), "--retry-deadline", "2")
        code, seconds, err = copy.finish(timeout=60)
        assert relay.fired, f"the fault never fired ({relay.moved}):\n{err[-3000:]}"
        assert "Votes#" not in err, err[-3000:]  # no chunk began: it was planning
        lines = errors(err)
        assert code != 0 and len(lines) == 1, err[-3000:]
        assert lines[0].startswith(f"error: source 127.0.0.1:{relay.port}/"), lines[0]
        assert "the connection to the source was lost; target: untouched; next: " in lines[0]
        assert "server closed" not in lines[0] and "Lost connection" not in lines[0], lines[0]
        assert staging_left(target) == []
