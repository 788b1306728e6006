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
