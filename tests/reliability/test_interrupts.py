"""SIGINT and SIGTERM through the real CLI on real PostgreSQL databases (issue 13).

`sluice copy` signalled early in its chunks, mid-chunk, while a table's keys are built and
while it is swapped in: it exits 130 within seconds with one line naming the target's state;
every table is then either untouched (the previous replica) or published with its identity
aligned (an insert without an Id gets max + 1); no staging table is left; a rerun completes
and verifies. `sluice verify` with worker processes signalled (Ctrl-C to the whole process
group, SIGTERM to the parent): exit 130, one `interrupted` line, no traceback, and no child
process (workers, resource tracker) left alive. An Airflow task copying a chunk stops at
SIGTERM with `Interrupted`, its transaction rolled back, Airflow's own handler still called.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from sluice.core.interrupt import Interrupted
from sluice.datasets.stackoverflow import TABLE_NAMES
from sluice.dialects import get_dialect
from tests.conftest import _fresh, stackoverflow_db
from tests.reliability.test_kill9 import Run, pg_fingerprint

SCALE = 0.05  # a copy with --workers 2 --chunk-rows 5000 runs ~5 s: room to land inside it
BOUND = 15.0  # seconds from the signal to the exit (it used to run the rest of the copy)
_STATE = re.compile(r"^interrupted: (?:no table published|(\d+) table\(s\) published and finished)")

# where to signal: the line to wait for, how many of them, the signal
POINTS = {
    "early in the chunks": (re.compile(r"DEBUG \w+#\d+ .*: copying"), 1, signal.SIGINT),
    "mid-chunk": (re.compile(r"DEBUG \w+#\d+ .*: committed"), 8, signal.SIGTERM),
    "building keys": (re.compile(r"DEBUG \w+: building the key"), 1, signal.SIGINT),
    "swapping in": (re.compile(r"DEBUG \w+: swapping the staging table in"), 1, signal.SIGTERM),
}


@pytest.fixture(scope="module")
def so_source(pg_server):
    yield from stackoverflow_db(pg_server, "sluice_int_src", SCALE)


@pytest.fixture(scope="module")
def replica(pg_server, so_source):
    """A complete replica made by the CLI: the 'previous state' the interrupted runs start from."""
    gen = _fresh(pg_server, "sluice_int_dst")
    target = next(gen)
    run = Run(so_source, target, verbose=False)
    assert run.finish() == 0, "\n".join(run.snapshot()[-20:])
    yield target
    next(gen, None)


def test_copy_stops_promptly_at_every_point_leaving_whole_finished_tables(so_source, replica):
    source_prints = {t: pg_fingerprint(so_source, t) for t in TABLE_NAMES}
    identity = identity_tables(replica)
    assert "Votes" in identity
    add_a_row_each(replica, identity)  # the replica now differs from the source everywhere
    seen = {}
    for point, (needle, nth, sig) in POINTS.items():
        before = {t: pg_fingerprint(replica, t) for t in TABLE_NAMES}
        run = Run(so_source, replica)  # -v: the debug lines mark the phases
        assert wait_nth(run, needle, nth), f"{point}: the copy ended first"
        signalled = time.monotonic()
        run.proc.send_signal(sig)
        rc = run.finish(timeout=BOUND + 30)
        took = time.monotonic() - signalled
        lines = run.snapshot()
        assert rc == 130, f"{point}: exit {rc}\n" + "\n".join(lines[-15:])
        assert took < BOUND, f"{point}: {took:.1f}s from {sig.name} to exit"
        assert not any("Traceback" in line for line in lines), "\n".join(lines)
        state = _STATE.match(lines[-1])
        assert state and lines[-1].endswith("run the copy again to finish" if state.group(1)
                                            else "run the copy again"), lines[-1]  # fmt: skip
        published = [t for t in TABLE_NAMES if pg_fingerprint(replica, t) == source_prints[t]]
        untouched = [t for t in TABLE_NAMES if pg_fingerprint(replica, t) == before[t]]
        assert sorted(published + untouched) == sorted(TABLE_NAMES), (point, published, untouched)
        assert len(published) == int(state.group(1) or 0), (lines[-1], published)
        assert not staging_tables(replica), point
        add_a_row_each(replica, identity)  # fails if a published identity was not aligned
        seen[point] = (sig.name, round(took, 2), len(published))
    assert seen["early in the chunks"][2] < len(TABLE_NAMES)  # it stopped: tables untouched
    rerun = Run(so_source, replica, verbose=False)
    assert rerun.finish() == 0, "\n".join(rerun.snapshot()[-20:])
    verify = subprocess.run(cli("verify", "--source", so_source.render_secret(),
                                "--target", replica.render_secret()),
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    print(f"\ninterrupted copies (signal, seconds to exit, tables published): {seen}")


@pytest.mark.parametrize("how", ["SIGINT to the process group", "SIGTERM to the parent"])
def test_verify_with_worker_processes_stops_and_leaves_no_process(so_source, replica, how):
    cmd = cli("verify", "--source", so_source.render_secret(), "--target",
              replica.render_secret(), "--canonical", "--chunk-rows", "2000", "--workers", "3",
              "--no-checks")  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    children = wait_children(proc, 4)  # three workers and multiprocessing's resource tracker
    time.sleep(0.5)  # the workers digest ranges
    assert proc.poll() is None, "verify ended before the signal"
    signalled = time.monotonic()
    if how.startswith("SIGINT"):
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    else:
        proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=BOUND + 30)
    took = time.monotonic() - signalled
    assert proc.returncode == 130, out[-3000:]
    assert took < BOUND
    assert "Traceback" not in out, out[-3000:]
    assert [line for line in out.splitlines() if "interrupted" in line] == [
        f"interrupted ({how.split()[0]}): verification stopped, no report"
    ], out[-3000:]
    deadline = time.monotonic() + 10
    while (alive := [c.pid for c in children if running(c)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"left behind: {alive} of {[c.pid for c in children]}"


def test_airflow_chunk_task_stops_at_sigterm_and_rolls_back(so_source, pg_db, monkeypatch):
    """The task callable as Airflow runs it: SIGTERM arrives in the main thread, where the task
    runner's handler (here a stand-in that records it) would call on_kill and nothing more."""
    from sluice.airflow import tasks
    from sluice.airflow.local import connection_json

    # JSON connections: they keep a socket host (the embedded PostgreSQL's) that a URI drops
    monkeypatch.setenv("AIRFLOW_CONN_INT_SOURCE", connection_json(so_source))
    monkeypatch.setenv("AIRFLOW_CONN_INT_TARGET", connection_json(pg_db))
    ends = tasks.Endpoints("int_source", "int_target")
    plan = tasks.plan(ends, ["PostHistory"], 10_000_000, False, chunk_bytes=1 << 40)
    tasks.prepare_target(ends, plan)
    (chunk,) = tasks.chunk_list(plan)  # the whole table (~116 MB): seconds at a 1 MiB cap
    calls = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    try:
        timer.start()
        started = time.monotonic()
        with pytest.raises(Interrupted, match=r"PostHistory#0 .*: interrupted \(SIGTERM\)"):
            tasks.copy_one_chunk(ends, plan, chunk, 1 << 20)
        took = time.monotonic() - started
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, before)
    assert calls == [signal.SIGTERM]  # Airflow's handler still ran
    assert took < BOUND
    d = get_dialect("postgresql")
    with d.connect(pg_db) as conn:  # the chunk's transaction rolled back: nothing kept
        assert conn.execute('SELECT count(*) FROM "_sluice_stage_PostHistory"').fetchone() == (0,)


# --- helpers ----------------------------------------------------------------------------------


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sluice.cli", *args]


def wait_nth(run: Run, needle: re.Pattern, nth: int, timeout: float = 60) -> bool:
    """Until `nth` lines match (True) or the process ended first (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(bool(needle.search(line)) for line in run.snapshot()) >= nth:
            return True
        if run.proc.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError(f"no {nth} lines matching {needle.pattern} in {timeout}s")


def wait_children(proc: subprocess.Popen, n: int, timeout: float = 60) -> list[psutil.Process]:
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = parent.children(recursive=True)
        if len(children) >= n:
            return children
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} child processes after {timeout}s")


def running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def identity_tables(url) -> list[str]:
    d = get_dialect("postgresql")
    with d.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND is_identity = 'YES' AND column_name = 'Id'"
        ).fetchall()
    return sorted(r[0] for r in rows)


def add_a_row_each(url, tables: list[str]) -> None:
    """Copy each table's last row without its Id: the identity must give max(Id) + 1 (a
    table published without alignment would hand out 1, a duplicate key)."""
    d = get_dialect("postgresql")
    with d.connect(url) as conn:
        for table in tables:
            cols = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = %s AND column_name <> 'Id' ORDER BY ordinal_position",
                (table,),
            )]  # fmt: skip
            names = ", ".join(d.quote(c) for c in cols)
            q = d.quote(table)
            top = conn.execute(f'SELECT max("Id") FROM {q}').fetchone()[0]
            conn.execute(f'INSERT INTO {q} ({names}) SELECT {names} FROM {q} WHERE "Id" = %s',
                         (top,))  # fmt: skip
            assert conn.execute(f'SELECT max("Id") FROM {q}').fetchone()[0] == top + 1, table
        conn.commit()


def staging_tables(url) -> list[str]:
    d = get_dialect("postgresql")
    with d.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE '\\_sluice\\_stage\\_%'"
        ).fetchall()
    return [r[0] for r in rows]


def test_log_lines_go_above_the_progress_bars(so_source, replica):
    """On a terminal, log lines (a table published, finish, and after Ctrl-C) are printed
    above rich's live bars, not into them: each starts on a line the display cleared."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: sluice on a terminal
        os.execv(sys.executable, cli("copy", "--source", so_source.render_secret(), "--target",
                                     replica.render_secret(), "--workers", "2"))  # fmt: skip
    out = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text[-2000:]
    logged = [m.start() for m in re.finditer(r"\d\d:\d\d:\d\d INFO ", text)]
    assert logged, text[-2000:]
    for at in logged:  # the live display cleared the line first ("erase line", ESC [2K)
        assert text[:at].endswith("\x1b[2K"), repr(text[at - 200 : at + 60])


# stand-ins for Airflow's components: one of them ignores SIGINT, as one of Airflow's did at a
# terminal's Ctrl-C, and starts a child of its own (in its process group)
_COMPONENT = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
sleeper = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(300)"
kid = subprocess.Popen([sys.executable, "-c", sleeper])
print(kid.pid, flush=True)
time.sleep(300)
"""
_SUPERVISE = """
import sys, tempfile, time
from pathlib import Path
from sluice.airflow.components import Component, start, supervise
found = [Component(f"c{n}", (sys.argv[1],)) for n in range(3)]
running = start({}, found, Path(tempfile.mkdtemp()), program=(sys.executable, "-c"))
pids = []
for r in running:
    while not r.log.read_text().strip():
        time.sleep(0.05)
    pids += [r.proc.pid, int(r.log.read_text().split()[0])]
print(" ".join(map(str, pids)), flush=True)
sys.exit(supervise(running, grace=20))
"""


def test_one_ctrl_c_stops_every_airflow_component():
    """`sluice airflow` (make airflow): one Ctrl-C to the terminal's process group stops every
    component (each in a process group of its own) and their children, those that ignore
    SIGINT included."""
    proc = subprocess.Popen([sys.executable, "-c", _SUPERVISE, _COMPONENT], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    tree = [psutil.Process(int(pid)) for pid in proc.stdout.readline().split()]
    assert len(tree) == 6
    time.sleep(0.5)  # supervise() has installed its handlers (the pids are printed just before)
    signalled = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends; the components are not in it
    _, err = proc.communicate(timeout=BOUND + 30)
    assert proc.returncode == 130, err
    assert time.monotonic() - signalled < BOUND
    assert err.strip().splitlines()[-1] == "interrupted: Airflow stopped", err
    deadline = time.monotonic() + 10
    while (alive := [p.pid for p in tree if running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive


def test_a_worker_exiting_leaves_the_rest_running_an_essential_one_stops_all(tmp_path):
    """`sluice airflow`: a Celery worker that exits is named and the others carry on; when
    an essential component (the scheduler, ...) exits, everything stops and its log is named."""
    from sluice.airflow.components import Component, start, supervise

    found = [
        Component("scheduler", ("import time; time.sleep(3); print('scheduler gave up')",)),
        Component("worker1", ("print('worker1 lost')",), essential=False),
        Component("worker2", ("import time; time.sleep(300)",), essential=False),
    ]
    running = start({**os.environ}, found, tmp_path, program=(sys.executable, "-c"))
    started = time.monotonic()
    assert supervise(running, grace=5) == 1
    assert time.monotonic() - started < BOUND
    assert all(not r.alive for r in running)  # worker2 was stopped with the rest
    assert "scheduler gave up" in (tmp_path / "scheduler.log").read_text()
