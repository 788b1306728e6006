"""The `Dialect` method listing what a copy does not create (issue 26): triggers, routines,
rules, row-level security, grants, events, each with its source DDL.

An engine lists them with catalog queries (data, in its `*_not_carried` module), each row
(kind, schema, table, name, ddl): `table` is None for what lives in a schema (a routine, a
schema's grant, an event) or in the database (an event trigger); `ddl` None asks
`not_carried_ddl` for it (MariaDB's SHOW CREATE). Catalog rows are few; they are fetched in
batches all the same. A query the server refuses (a privilege, an older version) is said as
an item of kind "catalog" (its name: what could not be listed; its ddl: the server's
words): never a silent gap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

# (kind, schema, table, name, ddl): one thing the copy does not create, as the source has it
Listed = tuple[str, "str | None", "str | None", str, str]
Inside = Callable[["str | None"], bool]  # whether a schema is one the run reads
BATCH = 200


class NotCarriedObjects:
    """Mixed into `Dialect`. An engine sets the queries it has; one without lists nothing."""

    # (what they are, query): rows (kind, schema, table, name, ddl)
    not_carried_queries: Sequence[tuple[str, str]] = ()

    def classify_fault(self, exc: BaseException) -> Any:  # Dialect's
        raise NotImplementedError

    def list_not_carried(self, conn: Any, inside: Inside | None = None) -> list[Listed]:
        """Every trigger, routine, rule, policy, grant and event of the source's schemas for
        which `inside(schema)` holds (all without it; None: the database's own), in catalog
        order, each with its DDL (asked for only for those kept)."""
        out: list[Listed] = []
        for what, query in self.not_carried_queries:
            try:
                rows = self._catalog_rows(conn, query)
                kept = [row for row in rows if inside is None or inside(row[1])]
                out += [self._with_ddl(conn, row) for row in kept]
            except Exception as exc:
                if self.classify_fault(exc).retryable:
                    raise  # a lost connection is not a missing privilege
                _rollback(conn)
                detail = " ".join(str(exc).split())[:300]
                out.append(("catalog", None, None, what, detail))  # said, never skipped
        _rollback(conn)
        return out

    def not_carried_ddl(self, conn: Any, kind: str, schema: str | None, table: str | None,
                        name: str) -> str:  # fmt: skip
        """The DDL of an item whose query gave none (an engine that prints it on request)."""
        return ""

    def _catalog_rows(self, conn: Any, query: str) -> list[tuple]:
        cur = conn.cursor()
        cur.execute(query)
        rows: list[tuple] = []
        while batch := cur.fetchmany(BATCH):  # a catalog list, never table data
            rows += [tuple(r) for r in batch]
        return rows

    def _with_ddl(self, conn: Any, row: tuple) -> Listed:
        kind, schema, table, name, ddl = row
        if ddl is None:
            ddl = self.not_carried_ddl(conn, kind, schema, table, name)
        return (str(kind), schema, table, str(name or ""), _statement(ddl))


def _statement(ddl: Any) -> str:
    """The DDL as one runnable text: bytes decoded, no trailing blank or semicolon (a
    printer adds its own terminator)."""
    if isinstance(ddl, bytes | bytearray):
        ddl = ddl.decode("utf-8", "replace")
    text = str(ddl or "").rstrip()
    return text[:-1].rstrip() if text.endswith(";") else text


def _rollback(conn: Any) -> None:
    with contextlib.suppress(Exception):  # the next statement says what is wrong, if anything
        conn.rollback()
