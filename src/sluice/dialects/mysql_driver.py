"""PyMySQL connections sharing one TLS context.

Without TLS options PyMySQL (1.2) offers TLS to whichever server takes it ("preferred") and
builds a fresh default `ssl.SSLContext` for every connection to do so: the system's CA store
is loaded each time, about 20 ms of CPU, forty times the connect itself on a local server, and
a copy opens a connection per chunk. That context takes nothing from the connection (no CA,
no certificate, no host check), so it is made once per process and shared: an SSLContext is
safe to share between threads. Explicit TLS options still get a context of their own, and
what is negotiated with the server is unchanged."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any


def connect(**kwargs: Any) -> Any:
    """`pymysql.connect(**kwargs)`, with the shared "preferred" TLS context."""
    return _connection_class()(**kwargs)


@functools.cache
def _connection_class() -> type:
    from pymysql.connections import Connection

    class SharedContextConnection(Connection):
        def _create_ssl_ctx(self, sslp):  # PyMySQL's hook, called from its __init__
            if isinstance(sslp, dict) and not sslp:
                return _preferred_context(super()._create_ssl_ctx)
            return super()._create_ssl_ctx(sslp)

    return SharedContextConnection


_context: list = []


def _preferred_context(make) -> Any:
    if not _context:  # a race makes two, both equal: harmless
        _context.append(make({}))
    return _context[0]


def first_values(cursor: Any) -> Iterator[Any]:
    """The first column of every row of an executed unbuffered cursor (`SSCursor`), as the
    protocol carries it (bytes for a binary column, None for NULL), read packet by packet.

    `fetchmany` spends most of a one-column read in per-row bookkeeping (a tuple per row,
    converters, three calls deep); reading a packet and its first length-coded string is
    what is left, about half the CPU. It leans on PyMySQL's result object (pinned in
    constraints.txt); where that is not what it expects, `fetchmany` does the reading."""
    result = getattr(cursor, "_result", None)
    conn = getattr(result, "connection", None)
    read_packet = getattr(conn, "_read_packet", None)
    at_end = getattr(result, "_check_packet_is_eof", None)
    if read_packet is None or at_end is None or not getattr(result, "unbuffered_active", False):
        while batch := cursor.fetchmany(500):
            yield from (row[0] for row in batch)
        return
    while True:
        packet = read_packet()
        if at_end(packet):  # what PyMySQL does at the end of an unbuffered result
            result.unbuffered_active = False
            result.connection = None
            result.rows = None
            return
        yield packet.read_length_coded_string()
