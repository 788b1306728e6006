"""The original tutorial's way to copy a table, kept as a baseline (run in the tools venv).

    python bench/methods/tutorial.py --source URL --target URL --tables A,B

Per table, one after another: pg8000 `SELECT *`, `fetchmany` batches written by `csv.writer`
into a `SpooledTemporaryFile(max_size=128 MB)`, then the file streamed into `COPY ... FROM STDIN
WITH (FORMAT csv)` on the target. The target tables already exist (the harness makes them).
Nothing here is tuned: it is the yardstick users told us they started from.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
from urllib.parse import unquote, urlsplit

import pg8000.dbapi

SPOOL_BYTES = 128 * 1024 * 1024
FETCH_ROWS = 10_000


def connect(url: str) -> pg8000.dbapi.Connection:
    parts = urlsplit(url)
    return pg8000.dbapi.connect(
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        database=parts.path.lstrip("/"),
    )


def copy_table(source, target, table: str) -> None:
    name = '"' + table.replace('"', '""') + '"'
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b") as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        writer = csv.writer(text)
        cur = source.cursor()
        cur.execute(f"SELECT * FROM {name}")
        while rows := cur.fetchmany(FETCH_ROWS):
            writer.writerows(rows)
        text.flush()
        spool.seek(0)
        target.cursor().execute(f"COPY {name} FROM STDIN WITH (FORMAT csv)", stream=spool)
        target.commit()
        text.detach()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--tables", required=True)
    args = ap.parse_args()
    source, target = connect(args.source), connect(args.target)
    for table in args.tables.split(","):
        copy_table(source, target, table)
    source.close()
    target.close()


if __name__ == "__main__":
    main()
