"""Servers restarted mid-copy, within the retry deadline: a PostgreSQL target, and a MariaDB
server as the source and as the target. The servers restarted are the tests' own
(conftest.py: `own_pg_server`, `own_mariadb`), never the system's services.

Each run is `python -m sluice.cli -v copy` of Votes (107,500 rows, 54 chunks of 2,000, one
worker) in a process of its own; at a seeded random chunk the server is stopped cleanly
(every session ends, as in a restart or a failover), kept down a seeded random 1-4 s, and
started again. The copy must retry and finish with exit 0 (its chunks in flight retried,
the connects refused meanwhile retried with backoff), the target equal to the source by
`verify_database`, and no staging table left. (The PostgreSQL source restarted:
test_liveness.py.)"""

from __future__ import annotations

import os
import random
import time

import pytest

from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow.generate import generate
from sluice.dialects import get_dialect
from tests.conftest import _fresh, drop_database
from tests.reliability.test_liveness import SEED, TABLE, Run, assert_exact, source_db

RUNS = int(os.environ.get("SLUICE_FAULT_RUNS", "2"))  # seeded instants per case (make soak)
SCALE = 0.025  # Votes: 107,500 rows
BOUND = 150  # seconds a whole run may take (the copy alone: 5-15 s)


@pytest.fixture(scope="module")
def pg_votes(pg_server):
    url, gen = source_db(pg_server, "sluice_restart_src", SCALE)
    yield url
    next(gen, None)


@pytest.fixture(scope="module")
def mariadb_votes(own_mariadb):
    url = own_mariadb.url.with_database("sluice_restart_src")
    get_dialect(url.engine).ensure_database(url)
    generate(url, SCALE, tables=[TABLE])
    yield url
    drop_database(url)


def _own_pg(request) -> tuple[DbUrl, object, object]:
    server = request.getfixturevalue("own_pg_server")
    return DbUrl.parse(server.url), lambda: server.stop("fast"), server.start


def _own_mariadb(request) -> tuple[DbUrl, object, object]:
    server = request.getfixturevalue("own_mariadb")
    return server.url, server.stop, server.start


CASES = {
    # case: (source fixture, the target's server: "shared" PostgreSQL or own, restarted side)
    "pg-target": ("pg_votes", _own_pg, "target"),
    "mariadb-source": ("mariadb_votes", None, "source"),
    "mariadb-target": ("pg_votes", _own_mariadb, "target"),
}


@pytest.mark.parametrize("run", range(RUNS))
@pytest.mark.parametrize("case", list(CASES))
def test_server_restarted_mid_copy_completes_exact(case, run, request, pg_server):
    source_fixture, own_target, side = CASES[case]
    source = request.getfixturevalue(source_fixture)
    if own_target is not None:
        server_url, stop, start = own_target(request)
    else:
        server_url = pg_server
        own = request.getfixturevalue("own_mariadb")
        stop, start = own.stop, own.start
    rng = random.Random(f"{SEED}-restart-{case}-{run}")
    gen = _fresh(server_url, "sluice_restart_dst")
    target = next(gen)
    try:
        copy = Run(source.render_secret(), target.render_secret(), "--workers", "1",
                   "--chunk-rows", "2000")  # fmt: skip
        k = rng.randint(2, 40)  # as chunk k of 54 starts
        copy.wait_for(f"Votes#{k} ", timeout=90)
        stopped = time.monotonic()
        stop()
        down = rng.uniform(1, 4)
        time.sleep(down)
        start()
        back = time.monotonic() - stopped
        code, seconds, err = copy.finish(timeout=BOUND)
        print(f"{case} run {run}: stopped at chunk {k}, down {back:.1f}s, exit {code}, "
              f"{seconds:.1f}s in all, retries {err.count('retrying in')}")  # fmt: skip
        assert code == 0, err[-3000:]
        assert "retrying" in err, err[-3000:]  # the stop landed mid-copy
        assert_exact(source, target)
    finally:
        next(gen, None)
