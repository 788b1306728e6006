"""Run the replication DAG's task callables one process at a time, as Airflow's workers do:

    python tests/reliability/airflow_task.py STEP STATE_FILE [CHUNK_JSON] [--pause WHEN]

Connections come from AIRFLOW_CONN_SOURCE / AIRFLOW_CONN_TARGET. Steps: plan (writes the
plan to STATE_FILE), prepare, chunks (every chunk but those in CHUNK_JSON, a list), chunk
(one chunk, CHUNK_JSON), publish (every table, then finish and verify). `--pause committed`
or `--pause uncommitted` stops the chunk after its transaction committed, or in the middle
of its COPY with rows handed over but nothing committed, and prints PAUSED: the test then kills
the process with SIGKILL, as a lost worker would be."""

from __future__ import annotations

import json
import sys
import time

from sluice.airflow import tasks
from sluice.copy import transfer
from sluice.dialects import get_dialect

ENDS = tasks.Endpoints("source", "target")


def pause(reason: str) -> None:
    print(f"PAUSED {reason}", flush=True)
    time.sleep(300)  # the test kills us here
    raise SystemExit("not killed")


def install_pause(when: str) -> None:
    """Patch our own code (never the database) so the process stops at a chosen point."""
    if when == "committed":
        real_write = transfer._write

        def write_then_pause(*args, **kw):
            written = real_write(*args, **kw)
            pause("after commit")
            return written

        transfer._write = write_then_pause
    elif when == "uncommitted":
        cls = type(get_dialect("postgresql"))
        real_raw_write = cls.raw_write

        def raw_write_pausing(self, conn, table, data, *rest):
            def blocks():
                for i, block in enumerate(data):
                    yield block
                    if i == 0:  # rows handed to the COPY, nothing committed
                        pause("mid-COPY")

            return real_raw_write(self, conn, table, blocks(), *rest)

        cls.raw_write = raw_write_pausing


def result(value) -> None:
    """The step's return value (what Airflow would push to XCom), on one marked line."""
    print("RESULT " + json.dumps(value), flush=True)


def main(argv: list[str]) -> None:
    step, state = argv[0], argv[1]
    rest = [a for a in argv[2:] if not a.startswith("--")]
    if "--pause" in argv:
        install_pause(argv[argv.index("--pause") + 1])
    if step == "plan":
        data = tasks.plan(ENDS, None, chunk_rows=5000, allow_lossy=False)
        with open(state, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        result(tasks.chunk_list(data))
        return
    with open(state, encoding="utf-8") as fh:
        data = json.load(fh)
    if step == "prepare":
        tasks.prepare_target(ENDS, data)
        result(None)
    elif step == "chunks":
        skip = [tuple(sorted(c.items())) for c in json.loads(rest[0])]
        done = [tasks.copy_one_chunk(ENDS, data, c, 0) for c in tasks.chunk_list(data)
                if tuple(sorted(c.items())) not in skip]  # fmt: skip
        result(done)
    elif step == "chunk":
        result(tasks.copy_one_chunk(ENDS, data, json.loads(rest[0]), 0))
    elif step == "publish":
        published = [tasks.publish(ENDS, data, t) for t in tasks.table_list(data)]
        tasks.finish_target(ENDS, data)
        headline = tasks.verify_replica(ENDS, tasks.table_list(data), "faults", "kill-retry")
        result({"published": published, "verified": headline})
    else:
        raise SystemExit(f"unknown step {step!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
