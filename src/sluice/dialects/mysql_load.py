"""CSV into MySQL's LOAD DATA LOCAL, one statement per block of whole rows (ADR 0008).

One statement per block, not per chunk: a LOAD DATA holds InnoDB's table-level AUTO-INC lock
until it ends (innodb_autoinc_lock_mode 1, the default), so two chunks of one table would
otherwise wait for each other's whole load, up to the lock wait timeout. With LOCAL the
server turns bad values into warnings instead of errors (a string cut, a date zeroed): any
warning rejects the chunk (the caller rolls back and copies it again decoded, naming the value
that cannot be stored). Each block goes through a named pipe in a private temporary folder, so
rows never touch the disk, and PyMySQL sends a file only while this statement runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from typing import Any

from sluice.core.errors import RawRejected
from sluice.core.schema import Table
from sluice.dialects.base import PARAM


def load_csv(d: Any, conn: Any, table: Table, data: Iterable[bytes]) -> int:
    """Every block of `data` loaded into `table` in the caller's transaction; the rows loaded."""
    names = ", ".join(d.quote(c) for c in table.column_names)
    sql = d.finalize(
        f"LOAD DATA LOCAL INFILE {PARAM} INTO TABLE {d.qualified(table)} "
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
        f"ESCAPED BY '' LINES TERMINATED BY '\\n' ({names})"
    )
    folder = tempfile.mkdtemp(prefix="sluice-load-")
    rows = 0
    try:
        for n, block in enumerate(data):
            pipe = os.path.join(folder, str(n))
            rows += _load_block(conn, table, d.bind([pipe]), sql, block, pipe)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def _load_block(conn: Any, table: Table, params: Any, sql: str, block: bytes, pipe: str) -> int:
    os.mkfifo(pipe, 0o600)

    def feed() -> None:
        with contextlib.suppress(OSError), open(pipe, "wb") as out:
            out.write(block)  # fails only when the loader gave up: its error is raised

    feeder = threading.Thread(target=feed, name=f"load-{table.name}", daemon=True)
    feeder.start()
    cur = conn.cursor()
    try:
        conn._local_infile = True
        try:
            cur.execute(sql, params)
        finally:
            conn._local_infile = False
    except BaseException:
        _unblock(pipe)  # a feeder still waiting for the loader to open the pipe
        raise
    finally:
        feeder.join(timeout=10)
        os.unlink(pipe)
    rows = cur.rowcount
    cur.execute("SHOW WARNINGS LIMIT 3")
    warnings = cur.fetchmany(3)
    if warnings:
        said = "; ".join(str(w[2]) for w in warnings)
        raise RawRejected(f"{table.name}: LOAD DATA would have changed values ({said})")
    return rows


def _unblock(pipe: str) -> None:
    """Open and close the read end of `pipe`, so that a writer blocked opening it goes on
    (and fails on its next write): the loader never opened it."""
    with contextlib.suppress(OSError):
        os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
