"""A source being written while it is copied: the tables, a writer process, and the
independent comparison of two databases (drivers only, tests.independent).

The writer runs seeded transactions at a steady rate: inserts, updates of a small column
beside a text of several kB (PostgreSQL keeps that text TOASTed and its log omits it),
values set to NULL and back, several updates of one row in one transaction, deletes of
children then parents, and changes to a table with a two-column key.

    python -m tests.capture.workload URL SECONDS SEED   # prints the transactions it committed
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import signal
import sys
import time

from sluice.core.urls import DbUrl
from tests.independent import connect, execute, rows

TABLES = ("parent", "child", "pair")
ROWS = 300  # parents at the start; each has one child


def ddl(engine: str) -> list[str]:
    text, blob = ("text", "bytea") if engine == "postgresql" else ("longtext", "longblob")
    return [
        f"CREATE TABLE parent (id int PRIMARY KEY, name varchar(100) NOT NULL, body {text}, "
        "amount numeric(18,4), stamp timestamp(6) NULL)",
        f"CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent(id), "
        f"note varchar(200), data {blob})",
        "CREATE TABLE pair (a int NOT NULL, b varchar(20) NOT NULL, v int, PRIMARY KEY (a, b))",
    ]


def seed(url: DbUrl, rng: random.Random) -> None:
    execute(url, *ddl(url.engine))
    conn = connect(url)
    cur = conn.cursor()
    for i in range(1, ROWS + 1):
        cur.execute(
            "INSERT INTO parent VALUES (%s, %s, %s, %s, %s)",
            (i, f"p{i}", _body(rng) if i % 3 == 0 else None, _amount(rng), _stamp(rng)),
        )
        cur.execute(
            "INSERT INTO child VALUES (%s, %s, %s, %s)",
            (i, i, f"c{i}", bytes(rng.randrange(256) for _ in range(16))),
        )
        cur.execute("INSERT INTO pair VALUES (%s, %s, %s)", (i % 17, f"k{i}", i))
    conn.close()


def _body(rng: random.Random) -> str:
    """Over 2 kB after compression: stored out of line (TOAST) on PostgreSQL."""
    return "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyzé€") for _ in range(6000))


def _amount(rng: random.Random) -> decimal.Decimal:
    return decimal.Decimal(rng.randrange(-(10**17), 10**17)) / 10000


def _stamp(rng: random.Random) -> dt.datetime:
    return dt.datetime(2020, 1, 1) + dt.timedelta(microseconds=rng.randrange(10**14))


class Writer:
    """Seeded transactions against `url`; `step()` commits one."""

    def __init__(self, url: DbUrl, seed_: int):
        self.rng = random.Random(seed_)
        self.conn = connect(url)
        self.conn.autocommit = False
        self.mysql = url.engine != "postgresql"
        self.next_id = max(r[0] for r in rows(url, "SELECT id FROM parent")) + 1
        self.transactions = 0

    def _ids(self, table: str, n: int) -> list[int]:
        cur = self.conn.cursor()
        cur.execute(f"SELECT id FROM {table} ORDER BY id")
        found = [r[0] for r in cur.fetchall()]
        return self.rng.sample(found, min(n, len(found)))

    def step(self) -> None:
        rng, cur = self.rng, self.conn.cursor()
        kind = rng.choice(["insert", "small", "null", "many", "delete", "pair", "body"])
        if kind == "insert":
            i, self.next_id = self.next_id, self.next_id + 1
            cur.execute(
                "INSERT INTO parent VALUES (%s, %s, %s, %s, %s)",
                (i, f"n{i}", _body(rng), _amount(rng), _stamp(rng)),
            )
            cur.execute("INSERT INTO child VALUES (%s, %s, %s, %s)", (i, i, None, b"\x00\xff"))
        elif kind == "small":  # the TOASTed body is not in the log
            for i in self._ids("parent", 3):
                cur.execute(
                    "UPDATE parent SET name = %s, amount = %s WHERE id = %s",
                    (f"s{rng.randrange(10**6)}", _amount(rng), i),
                )
        elif kind == "null":  # NULL and back in one transaction, or just NULL
            for i in self._ids("parent", 2):
                cur.execute("UPDATE parent SET body = NULL, stamp = NULL WHERE id = %s", (i,))
                if rng.random() < 0.5:
                    cur.execute(
                        "UPDATE parent SET body = %s, stamp = %s WHERE id = %s",
                        (_body(rng), _stamp(rng), i),
                    )
        elif kind == "many":  # several updates of one row in one transaction
            (i,) = self._ids("parent", 1)
            for n in range(4):
                cur.execute("UPDATE parent SET name = %s WHERE id = %s", (f"m{n}-{i}", i))
            cur.execute("UPDATE child SET note = %s WHERE parent_id = %s", ("many", i))
        elif kind == "delete":  # children first
            for i in self._ids("parent", 2):
                cur.execute("DELETE FROM child WHERE parent_id = %s", (i,))
                cur.execute("DELETE FROM parent WHERE id = %s", (i,))
        elif kind == "pair":
            a, b = rng.randrange(17), f"k{rng.randrange(2 * ROWS)}"
            if self.mysql:
                cur.execute(
                    "INSERT INTO pair VALUES (%s, %s, %s) ON DUPLICATE KEY UPDATE v = v + 1",
                    (a, b, 1),
                )
            else:
                cur.execute(
                    "INSERT INTO pair VALUES (%s, %s, %s) ON CONFLICT (a, b) DO UPDATE "
                    "SET v = pair.v + 1",
                    (a, b, 1),
                )
            cur.execute(
                "DELETE FROM pair WHERE a = %s AND b = %s",
                (rng.randrange(17), f"k{rng.randrange(ROWS)}"),
            )
        else:
            for i in self._ids("parent", 1):
                cur.execute("UPDATE parent SET body = %s WHERE id = %s", (_body(rng), i))
        self.conn.commit()
        self.transactions += 1


def counted_changes(url: DbUrl, transactions: int, rng: random.Random) -> int:
    """Transactions whose every statement changes exactly one row (new values each time),
    so the log holds exactly the returned number of row changes: an independent count."""
    conn = connect(url)
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("SELECT max(id) FROM parent")
    top = cur.fetchone()[0]
    cur.execute("SELECT id FROM parent ORDER BY id")
    alive = [r[0] for r in cur.fetchall()]
    changes = 0
    for n in range(transactions):
        top += 1
        cur.execute(
            "INSERT INTO parent VALUES (%s, %s, %s, %s, %s)",
            (top, f"k{top}", _body(rng) if n % 2 else None, _amount(rng), _stamp(rng)),
        )
        cur.execute("INSERT INTO child VALUES (%s, %s, %s, %s)", (top, top, "k", b"\x01"))
        i = alive.pop(rng.randrange(len(alive)))
        cur.execute("UPDATE parent SET name = %s WHERE id = %s", (f"u{n}-{i}", i))
        cur.execute("UPDATE parent SET name = %s WHERE id = %s", (f"v{n}-{i}", i))
        gone = alive.pop(rng.randrange(len(alive)))
        cur.execute("DELETE FROM child WHERE id = %s", (gone,))
        cur.execute("DELETE FROM parent WHERE id = %s", (gone,))
        conn.commit()
        alive.append(top)
        changes += 6
    conn.close()
    return changes


def snapshot(url: DbUrl) -> dict[str, list[tuple]]:
    """Every table's rows in key order, values made comparable across engines."""
    order = {"parent": "id", "child": "id", "pair": "a, b"}
    return {t: [tuple(_plain(v) for v in r)
                for r in rows(url, f"SELECT * FROM {t} ORDER BY {order[t]}")]
            for t in TABLES}  # fmt: skip


def _plain(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, decimal.Decimal):
        return v.normalize()
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return v


def main() -> None:
    """Write for SECONDS, or until SIGTERM (the caller's "enough"), then print the count."""
    url, seconds, seed_ = DbUrl.parse(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    writer = Writer(url, seed_)
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop:
        writer.step()
        time.sleep(0.02)
    print(writer.transactions)


if __name__ == "__main__":
    main()
