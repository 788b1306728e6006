"""Faults outside a copy's chunks: a stalled connection while a table is published or the
copy finished, and faults injected into `sluice verify` and `sluice sync`.

Every run is the CLI in a process of its own (`test_liveness.Run`), PostgreSQL to
PostgreSQL, the faulty side reached through the test's TCP relay. Each run ends within its
bound (a stall: within the stall timeout plus 10 s of the fault), with exit 0 after
retries or with one clear line naming the side and its host; then the target equals the
source (a failed sync's rerun finishes it) and no staging table is left."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest

from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.sync import SyncOptions, sync_database
from tests.conftest import _fresh
from tests.reliability.relay import Relay
from tests.reliability.test_fault_lines import end_sessions
from tests.reliability.test_liveness import (
    SEED,
    STALL,
    TABLE,
    Run,
    assert_exact,
    errors,
    staging_left,
    via,
)

CONNECT = 5
LIVE = ["--stall-timeout", str(STALL), "--connect-timeout", str(CONNECT)]
VERIFY = ["--tables", TABLE, "--workers", "2", "--chunk-rows", "8000", "--canonical",
          "--no-checks", *LIVE]  # fmt: skip
SYNC = ["--tables", TABLE, "--memory-cap", "2MiB", *LIVE]
GONE = 20_000  # rows deleted from the replica's top: what a sync brings back


@pytest.fixture(scope="module")
def replica(pg_server, request):
    """The Votes source (test_liveness's) and a copy of it, made once: verify only reads it."""
    source = request.getfixturevalue("pg_source")
    gen = _fresh(pg_server, "sluice_cmdfault_dst")
    target = next(gen)
    code, _, err = Run(source.render_secret(), target.render_secret()).finish(timeout=120)
    assert code == 0, err[-3000:]
    yield source, target
    next(gen, None)


@pytest.fixture(scope="module")
def pg_source(pg_server):
    from tests.reliability.test_liveness import source_db

    url, gen = source_db(pg_server, "sluice_cmdfault_src")
    yield url
    next(gen, None)


def fresh_target(pg_server):
    gen = _fresh(pg_server, "sluice_cmdfault_dst")
    return next(gen), gen


def line_of(err: str) -> str:
    lines = errors(err)
    assert len(lines) == 1, err[-3000:]
    assert "Traceback" not in err and "psycopg" not in lines[0], err[-3000:]
    return lines[0]


# --- a stall while publishing or finishing ---------------------------------------------------


@pytest.mark.parametrize("phase", ["building the key and indexes", "finish: aligning identity"])
def test_stall_while_publishing_or_finishing_ends_within_the_bound(phase, pg_source, pg_server):
    target, gen = fresh_target(pg_server)
    relay = Relay.to(target)
    try:
        copy = Run(pg_source.render_secret(), via(relay, target))
        copy.wait_for(phase)
        relay.freeze()
        frozen = time.monotonic()
        code, seconds, err = copy.finish(timeout=90)
        after = time.monotonic() - frozen
        line = errors(err)[0] if code else "exit 0 (the phase was over before the freeze)"
        print(f"\nstall at {phase!r}: exit {code}, {after:.1f}s after the freeze: {line}")
        assert after <= STALL + 10, err[-3000:]
        if code:
            line = line_of(err)
            assert line.startswith(f"error: target 127.0.0.1:{relay.port}/"), line
            assert "no byte moved on the connection to the target" in line, line
            assert f"(stall timeout {STALL}s)" in line, line
        assert staging_left(target) == []
    finally:
        relay.close()
    code, _, err = Run(pg_source.render_secret(), target.render_secret()).finish(timeout=120)
    assert code == 0, err[-3000:]  # nothing left in the way of the next run
    assert_exact(pg_source, target)
    next(gen, None)


# --- verify ----------------------------------------------------------------------------------

VERIFY_CASES = {  # name: (relayed side, fault, retried)
    "source-stalled": ("source", "freeze", True),
    "target-reset": ("target", "reset", True),
    "target-terminated": ("target", "terminate", True),
    "source-stalled-past-the-deadline": ("source", "freeze-all", False),
}


def fault_action(relay: Relay, fault: str, target) -> Callable[[], None]:
    """What the relay's trigger does for `fault`: freeze the open connections (and new ones,
    "freeze-all"), reset them, or end the target's sessions on the server (from a thread of
    our own, as the trigger runs on the relay's)."""

    def act() -> None:
        if fault == "freeze":
            relay.freeze()
        elif fault == "freeze-all":
            relay.freeze_new = True
            relay.freeze()
        elif fault == "reset":
            relay.reset()
        else:
            threading.Thread(target=end_sessions, args=(target,), daemon=True).start()

    return act


@pytest.mark.parametrize("case", list(VERIFY_CASES))
def test_fault_during_verify(case, replica):
    source, target = replica
    side, fault, retried = VERIFY_CASES[case]
    rng = random.Random(f"{SEED}-verify-{case}")
    relay = Relay.to(source if side == "source" else target)

    relay.trigger("down", rng.randint(64 << 10, 512 << 10), fault_action(relay, fault, target))
    src = via(relay, source) if side == "source" else source.render_secret()
    dst = via(relay, target) if side == "target" else target.render_secret()
    extra = [] if retried else ["--retry-deadline", "4"]
    try:
        run = Run(src, dst, *extra, command="verify", base=VERIFY)
        code, seconds, err = run.finish(timeout=90)
        assert relay.fired, f"the fault never fired ({relay.moved}):\n{err[-3000:]}"
        after = time.monotonic() - relay.fired[0]
        print(f"\nverify {case}: exit {code}, {after:.1f}s after the fault, retries "
              f"{err.count('retrying in')}: {errors(err)[:1]}")  # fmt: skip
        if retried:
            assert code == 0 and "retrying" in err, err[-3000:]
            assert after <= STALL + 10, err[-3000:]
            if fault == "freeze":  # the stall named by its side, not only its host
                assert f"no byte moved on the connection to the {side} for" in err, err
        else:
            assert code == 1, err[-3000:]
            line = line_of(err)
            assert line.startswith(f"error: source 127.0.0.1:{relay.port}/"), line
            # the last try's connect timed out, or its connection stalled
            assert (
                "the connection to the source was lost" in line
                or "no byte moved on the connection to the source" in line
            ), line
            assert "tries)" in line and "target: unchanged (verify only reads it)" in line
            assert after <= STALL + 4 + CONNECT + 10, err[-3000:]
    finally:
        relay.close()


# --- sync ------------------------------------------------------------------------------------


def take_top(target: DbUrl, rows: int) -> None:
    """Delete the replica's `rows` highest keys: the next sync reads them again."""
    with get_dialect("postgresql").connect(target) as conn:
        conn.execute(f'DELETE FROM "{TABLE}" WHERE "Id" > (SELECT max("Id") - %s '
                     f'FROM "{TABLE}")', (rows,))  # fmt: skip


SYNC_CASES = {  # name: (relayed side, fault, deadline)
    "source-stalled": ("source", "freeze", None),
    "target-stalled": ("target", "freeze", None),
    "target-terminated": ("target", "terminate", None),
    "source-stalled-past-the-deadline": ("source", "freeze-all", "4"),
}


@pytest.mark.parametrize("case", list(SYNC_CASES))
def test_fault_during_sync_leaves_a_state_the_rerun_finishes(case, pg_source, pg_server):
    side, fault, deadline = SYNC_CASES[case]
    rng = random.Random(f"{SEED}-sync-{case}")
    target, gen = fresh_target(pg_server)
    code, _, err = Run(pg_source.render_secret(), target.render_secret()).finish(timeout=120)
    assert code == 0, err[-3000:]
    take_top(target, GONE)
    relay = Relay.to(pg_source if side == "source" else target)
    direction = "down" if side == "source" else "up"
    relay.trigger(direction, rng.randint(32 << 10, 256 << 10), fault_action(relay, fault, target))
    src = via(relay, pg_source) if side == "source" else pg_source.render_secret()
    dst = via(relay, target) if side == "target" else target.render_secret()
    try:
        extra = ["--retry-deadline", deadline] if deadline else []
        code, seconds, err = Run(src, dst, *extra, command="sync", base=SYNC).finish(timeout=90)
        assert relay.fired, f"the fault never fired ({relay.moved}):\n{err[-3000:]}"
        after = time.monotonic() - relay.fired[0]
        first = errors(err)[:1]
        print(f"\nsync {case}: exit {code}, {after:.1f}s after the fault, retries "
              f"{err.count('retrying in')}: {first}")  # fmt: skip
        assert after <= STALL + (int(deadline or 0)) + CONNECT + 10, err[-3000:]
        if code:
            line = line_of(err)
            assert line.startswith(f"error: {side} 127.0.0.1:{relay.port}/"), line
            assert "; target: " in line and "; next: " in line, line
    finally:
        relay.close()
    # whatever happened, the state agrees with the data: a rerun finishes the sync exactly
    result = sync_database(pg_source, target, SyncOptions(tables=[TABLE]))
    assert result.table(TABLE).moved >= 0
    assert_exact(pg_source, target)
    next(gen, None)


SLOWED = {  # case: (target server fixture, the dialect method given a 1 s sleep, state after)
    # finish's alignment of the live table's identity (a publish aligns the staging table's
    # before its rename, ADR 0021: that one is left as it is)
    "pg-finishing": ("pg_server", "align_identity_sql", "all 1 table(s) published and complete"),
    "mariadb-publishing": ("mysql_server", "swap_sql", "untouched (no table replaced"),
}


@pytest.mark.parametrize("case", list(SLOWED))
def test_stall_inside_a_statement_of_publish_or_finish(case, pg_source, request, monkeypatch):
    """In this process: a statement of the phase is preceded by a 1 s sleep in sluice's own
    SQL (patched: the window a long ALTER would give) and the relay freezes 0.3 s into it.
    The server finishes the statement and idles; the watchdog asks it, drops the connection,
    and the run ends with one line naming the stall and the target's state."""
    from sluice.copy import CopyOptions, copy_database
    from sluice.core.faults import failure_line
    from sluice.core.liveness import Timeouts

    server, method, state = SLOWED[case]
    target, gen = fresh_target(request.getfixturevalue(server))
    relay = Relay.to(target)
    d = get_dialect(target.engine)
    cls, real = type(d), getattr(type(d), method)
    sleep = "SELECT pg_sleep(1)" if target.engine == "postgresql" else "SELECT SLEEP(1)"
    frozen: list[float] = []

    def freeze():
        relay.freeze()
        frozen.append(time.monotonic())

    def slow(self, *args):
        if method == "align_identity_sql" and args[0].name.startswith("_sluice_stage_"):
            return real(self, *args)  # the publish's, on the staging table: not the phase
        threading.Timer(0.3, freeze).start()
        return [sleep, *real(self, *args)]

    monkeypatch.setattr(cls, method, slow)
    # no retry: each try would meet the patched freeze again (test_step_faults retries once)
    options = CopyOptions(tables=[TABLE], workers=2, chunk_rows=8000, retry_deadline=0,
                          timeouts=Timeouts(CONNECT, STALL))  # fmt: skip
    try:
        started = time.monotonic()
        result = copy_database(pg_source, DbUrl.parse(via(relay, target)), options)
        after = time.monotonic() - frozen[0]
    finally:
        relay.close()
    monkeypatch.undo()
    line = failure_line(result.errors[0])
    print(f"\nstall in {case}: {line} ({after:.1f}s after the freeze, "
          f"{time.monotonic() - started:.1f}s in all)")  # fmt: skip
    assert line.startswith(f"target 127.0.0.1:{relay.port}/"), line
    assert "no byte moved on the connection to the target" in line, line
    assert f"target: {state}" in line, line
    assert after <= STALL + 10, after
    assert staging_left(target) == []
    code, _, err = Run(pg_source.render_secret(), target.render_secret()).finish(timeout=120)
    assert code == 0, err[-3000:]
    assert_exact(pg_source, target)
    next(gen, None)


@pytest.mark.parametrize("after", [1_500, 3_000])
def test_stall_while_planning_ends_within_the_bound(after, pg_source, pg_server):
    """The source's catalog read (SQLAlchemy's reflection) frozen after `after` bytes: the
    statement is watched like a chunk's, so the plan stops with one line naming the side."""
    target, gen = fresh_target(pg_server)
    relay = Relay.to(pg_source)
    relay.trigger("down", after, relay.freeze)
    try:
        code, seconds, err = Run(via(relay, pg_source), target.render_secret()).finish(timeout=60)
        fired = time.monotonic() - relay.fired[0]
    finally:
        relay.close()
    print(f"\nstall while planning after {after} bytes: exit {code}, {fired:.1f}s after the "
          f"freeze: {errors(err)[:1]}")  # fmt: skip
    assert code != 0, err[-3000:]
    line = line_of(err)
    assert line.startswith(f"error: source 127.0.0.1:{relay.port}/"), line  # side and host
    assert "no byte moved on the connection to the source" in line, line
    assert "stalled and was dropped" in line, line
    assert fired <= STALL + 10, err[-3000:]
    next(gen, None)
