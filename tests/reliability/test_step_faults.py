"""The last statements that were not yet bounded or retried (issue 23): the plan's
statistics read after the catalog (key ranges, row estimates, sizes), sync's delete pass,
and publish and finish meeting a lost connection.

In this process, PostgreSQL to PostgreSQL (test_liveness's Votes source): a dialect method
or a step of sluice's own is wrapped so that the fault lands exactly inside the step under
test: the relay freezes (a stall) or the step's session is ended on the server (a lost
connection). A stall ends within the stall timeout plus 10 s with one line naming the side
and its host; a lost connection at publish or finish is retried and the copy ends exact."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.copy.plan import build_plan
from sluice.core.errors import SluiceError
from sluice.core.faults import failure_line
from sluice.core.liveness import Timeouts
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.sync import SyncOptions, sync_database
from tests.conftest import _fresh
from tests.reliability.relay import Relay
from tests.reliability.test_command_faults import take_top
from tests.reliability.test_liveness import STALL, TABLE, assert_exact, source_db, staging_left, via

CONNECT = 5
TIMEOUTS = Timeouts(CONNECT, STALL)


@pytest.fixture(scope="module")
def pg_source(pg_server):
    url, gen = source_db(pg_server, "sluice_stepfault_src")
    yield url
    next(gen, None)


@pytest.fixture
def target(pg_server):
    gen = _fresh(pg_server, "sluice_stepfault_dst")
    yield next(gen)
    next(gen, None)


def once(action):
    """`action` on the first call only (a retry must not meet the fault again)."""
    done: list[bool] = []

    def run() -> None:
        if not done:
            done.append(True)
            action()

    return run


def wrap(monkeypatch, owner, name: str, before) -> None:
    """`owner.name` calling `before()` first (a method or a module's function)."""
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        before()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)


# --- a stall while planning, after the catalog was read --------------------------------------


@pytest.mark.parametrize("step", ["row_estimate_sql", "relation_bytes_sql"])
def test_stall_reading_key_ranges_or_sizes_ends_with_one_line(step, pg_source, monkeypatch):
    """The relay freezes as the plan asks for the row estimate (after MIN/MAX of the key) or
    the relation size: the next statement on the frozen connection is watched, the plan
    stops with one line naming the source."""
    relay = Relay.to(pg_source)
    frozen: list[float] = []

    def freeze() -> None:
        relay.freeze()
        frozen.append(time.monotonic())

    wrap(monkeypatch, type(get_dialect("postgresql")), step, once(freeze))
    source = DbUrl.parse(via(relay, pg_source)).with_timeouts(TIMEOUTS)
    try:
        with pytest.raises(SluiceError) as info:
            build_plan(source, source, tables=[TABLE])
        after = time.monotonic() - frozen[0]
    finally:
        relay.close()
    line = failure_line(info.value)
    print(f"\nstall at {step}: {after:.1f}s after the freeze: {line}")
    assert line.startswith(f"source 127.0.0.1:{relay.port}/"), line
    assert "no byte moved on the connection to the source" in line, line
    assert f"(stall timeout {STALL}s)" in line and "; next: " in line, line
    assert after <= STALL + 10, after


def test_stall_while_reading_the_catalog_names_the_source(pg_source):
    """The catalog read itself (SQLAlchemy's reflection) frozen: the line says "source"."""
    relay = Relay.to(pg_source)
    relay.trigger("down", 1_500, relay.freeze)
    source = DbUrl.parse(via(relay, pg_source)).with_timeouts(TIMEOUTS)
    try:
        with pytest.raises(SluiceError) as info:
            build_plan(source, source, tables=[TABLE])
        after = time.monotonic() - relay.fired[0]
    finally:
        relay.close()
    line = failure_line(info.value)
    assert line.startswith(f"source 127.0.0.1:{relay.port}/"), line
    assert "no byte moved on the connection to the source" in line, line
    assert "while its catalog was read" in line and "; next: " in line, line
    assert after <= STALL + 10, after


# --- a stall in sync's delete pass -----------------------------------------------------------


@pytest.mark.parametrize("side", ["source", "target"])
def test_stall_in_the_delete_pass_ends_with_one_line(side, pg_source, target, monkeypatch):
    """The relayed side freezes as the delete pass summarises its first key range; the
    changes were applied already, the deletes not: the line says so, and a rerun finishes."""
    from sluice.sync import deletes

    copied = copy_database(pg_source, target, CopyOptions(tables=[TABLE], chunk_rows=8000))
    assert copied.ok, copied.failures
    take_top(target, 5_000)
    with get_dialect("postgresql").connect(pg_source) as conn:  # a delete for the pass to find
        conn.execute(f'DELETE FROM "{TABLE}" WHERE "Id" = (SELECT min("Id") FROM "{TABLE}")')
    relayed = pg_source if side == "source" else target
    relay = Relay.to(relayed)
    frozen: list[float] = []

    def freeze() -> None:
        relay.freeze()
        frozen.append(time.monotonic())

    wrap(monkeypatch, deletes, "summary_sql", once(freeze))
    src = DbUrl.parse(via(relay, pg_source)) if side == "source" else pg_source
    dst = DbUrl.parse(via(relay, target)) if side == "target" else target
    try:
        with pytest.raises(SluiceError) as info:
            sync_database(src, dst, SyncOptions(tables=[TABLE], timeouts=TIMEOUTS))
        after = time.monotonic() - frozen[0]
    finally:
        relay.close()
    monkeypatch.undo()
    line = failure_line(info.value)
    print(f"\nstall in the delete pass ({side}): {after:.1f}s after the freeze: {line}")
    assert line.startswith(f"{side} 127.0.0.1:{relay.port}/"), line
    assert f"no byte moved on the connection to the {side}" in line, line
    assert f"the deletes of {TABLE} not applied" in line, line
    assert after <= STALL + 10, after
    result = sync_database(pg_source, target, SyncOptions(tables=[TABLE]))
    assert result.table(TABLE).deleted == 1
    assert_exact(pg_source, target)


# --- a lost connection at publish and finish: retried ----------------------------------------


def end_session_running(url: DbUrl, text: str) -> None:
    """End, on the server, the session of `url`'s database running the statement `text`."""
    d = get_dialect("postgresql")
    with d.connect(url.with_database("postgres"), autocommit=True) as admin:
        for _ in range(50):
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                "AND query = %s AND pid <> pg_backend_pid()", (url.database, text)
            ).fetchall()  # fmt: skip
            if ended:
                return
            time.sleep(0.02)
    raise AssertionError(f"no session ran {text!r}")


SLEEP = "SELECT pg_sleep(2)"
STEPS = {"publishing": "swap_sql", "finishing": "align_identity_sql"}


@pytest.mark.parametrize("step", list(STEPS))
def test_session_ended_while_publishing_or_finishing_is_retried(step, pg_source, target,
                                                                monkeypatch, caplog):  # fmt: skip
    """The step's own session is ended on the server (pg_terminate_backend) while it runs a
    statement of the step: the step is retried within the retry deadline, the copy ends
    exact and complete, no staging table left."""
    d = get_dialect("postgresql")
    method = STEPS[step]
    real = getattr(type(d), method)
    ended = once(lambda: threading.Thread(target=end_session_running,
                                          args=(target, SLEEP), daemon=True).start())  # fmt: skip

    def slow(self, *args):
        ended()
        return [SLEEP, *real(self, *args)]

    monkeypatch.setattr(type(d), method, slow)
    caplog.set_level(logging.INFO)
    result = copy_database(pg_source, target, CopyOptions(tables=[TABLE], chunk_rows=8000,
                                                          timeouts=TIMEOUTS))  # fmt: skip
    monkeypatch.undo()
    assert result.ok, [failure_line(e) for e in result.errors]
    assert "try 1 failed" in caplog.text and "retrying in" in caplog.text, caplog.text[-3000:]
    if step == "finishing":
        assert result.finish is not None and result.finish.identities.get(TABLE)
    assert_exact(pg_source, target)
    assert staging_left(target) == []


def test_swap_committed_but_its_reply_lost_is_published_once(pg_source, target, monkeypatch,
                                                             caplog):  # fmt: skip
    """The swap commits, then the publishing session is ended before the caller hears of it:
    the retry finds the staging table gone and the live one in place, and takes the publish
    as done instead of failing (a publish is idempotent)."""
    from sluice.copy import publish

    real = publish._swap
    lost: list[bool] = []

    def swap_then_lose(dst, conn, *args):
        real(dst, conn, *args)  # committed
        if not lost:
            lost.append(True)
            with dst.connect(target, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
            conn.execute("SELECT 1")  # the connection is gone: what the caller meets

    monkeypatch.setattr(publish, "_swap", swap_then_lose)
    caplog.set_level(logging.INFO)
    result = copy_database(pg_source, target, CopyOptions(tables=[TABLE], chunk_rows=8000,
                                                          timeouts=TIMEOUTS))  # fmt: skip
    monkeypatch.undo()
    assert result.ok, [failure_line(e) for e in result.errors]
    assert "the swap of the earlier try had committed" in caplog.text, caplog.text[-3000:]
    assert result.tables[TABLE].rows > 0
    assert_exact(pg_source, target)
