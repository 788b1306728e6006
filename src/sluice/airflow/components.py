"""Airflow's components as processes on this machine: API server (the UI), scheduler, DAG
processor, triggerer, and under CeleryExecutor one or more Celery workers, each with its own
name. Each runs in a process group of its own, so one Ctrl-C stops all of them (one SIGTERM
per group: a terminal's SIGINT to each left some running or stopping slowly), and a test can
kill one worker's whole tree as a lost host would vanish.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sluice.airflow.deployment import Deployment


@dataclass(frozen=True)
class Component:
    """One long-running Airflow command; `essential` ones stop the deployment when they exit
    (a worker may go, as long as another is left). `prefix`, when given, is a command that
    runs the program, e.g. `ip netns exec <name>` to place a worker on a host of its own (it
    must exec the program, so that the process started is the component's)."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    essential: bool = True
    prefix: tuple[str, ...] = ()


def components(d: Deployment) -> list[Component]:
    """What runs `d`. Task logs are read by the API server from the shared AIRFLOW_HOME/logs,
    so no component serves its own: those servers listen on every interface (8793, 8794)
    and two workers on one machine would want the same port."""
    found = [
        Component("api-server", ("api-server", "--host", d.host, "--port", str(d.port))),
        Component("scheduler", ("scheduler", "--skip-serve-logs")),
        Component("dag-processor", ("dag-processor",)),
        Component("triggerer", ("triggerer", "--skip-serve-logs")),
    ]
    for n in range(1, d.workers + 1 if d.celery else 1):
        name = f"worker{n}"
        args = ("celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", d.queue,
                "--concurrency", str(d.concurrency), "--skip-serve-logs")  # fmt: skip
        found.append(Component(name, args, {"SLUICE_WORKER_NAME": name}, essential=False))
    return found


@dataclass
class Running:
    component: Component
    proc: subprocess.Popen
    log: Path

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


AIRFLOW = (sys.executable, "-m", "airflow")


def start(env: dict[str, str], found: list[Component], log_dir: Path,
          program: tuple[str, ...] = AIRFLOW) -> list[Running]:  # fmt: skip
    """Start each component (its prefix, `program`, its args) in its own process group, its
    output to `log_dir/<name>.log`."""
    log_dir.mkdir(parents=True, exist_ok=True)
    running = []
    for c in found:
        log = log_dir / f"{c.name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [*c.prefix, *program, *c.args], env={**env, **c.env},
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        running.append(Running(c, proc, log))
    return running


def stop(running: list[Running], grace: float = 30.0, hurry=lambda: False) -> None:
    """SIGTERM every group, SIGKILL what is left after `grace` seconds or once `hurry()`,
    processes of the components' trees that left their group included."""
    trees = {r.proc.pid: descendants(r) for r in running}
    for r in running:
        signal_group(r.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while (time.monotonic() < deadline and not hurry()
           and any(group_alive(r.proc.pid) for r in running)):  # fmt: skip
        for r in running:
            r.proc.poll()
        time.sleep(0.2)
    for r in running:
        kill_tree(r, trees[r.proc.pid])
        with contextlib.suppress(subprocess.TimeoutExpired):
            r.proc.wait(timeout=5)


def descendants(r: Running) -> list:
    import psutil

    try:
        return psutil.Process(r.proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kill_tree(r: Running, below: list | None = None) -> None:
    """SIGKILL a component's process group and every process below it (`below`, else as
    found now), also those in groups of their own (Airflow's task processes): what a host's
    loss does to them."""
    import psutil

    below = descendants(r) if below is None else below
    signal_group(r.proc.pid, signal.SIGKILL)
    for p in below:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def supervise(running: list[Running], grace: float = 30.0) -> int:
    """Wait until SIGINT/SIGTERM, an essential component exits or no worker is left; then
    stop every component (a second signal: SIGKILL at once). 130 when stopped by a signal,
    else 1 naming the component that ended and its log."""
    received: list[int] = []
    handlers = {s: signal.signal(s, lambda n, f: received.append(n))
                for s in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    ended: Running | None = None
    gone: set[str] = set()
    try:
        while not received and ended is None:
            workers = [r for r in running if not r.component.essential]
            for r in running:
                if r.alive:
                    continue
                if r.component.essential or not any(w.alive for w in workers):
                    ended = r
                elif r.component.name not in gone:  # the scheduler retries its tasks
                    gone.add(r.component.name)
                    print(f"Airflow {r.component.name} exited ({r.proc.returncode}); the "
                          f"other workers carry on. Its log: {r.log}", file=sys.stderr)  # fmt: skip
            time.sleep(0.2)
        if received:
            print("stopping Airflow (every component) ...", file=sys.stderr, flush=True)
        stop(running, grace, hurry=lambda: len(received) > 1)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    if received:
        print("interrupted: Airflow stopped", file=sys.stderr)
        return 130
    assert ended is not None
    tail = ended.log.read_text(errors="replace")[-1500:] if ended.log.exists() else ""
    print(f"Airflow {ended.component.name} exited ({ended.proc.returncode}); everything was "
          f"stopped. Its log: {ended.log}\n{tail}", file=sys.stderr)  # fmt: skip
    return 1


def signal_group(group: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
