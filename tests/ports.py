"""A free TCP port on 127.0.0.1, for a server a test starts (or, left closed, one nobody
listens on). The OS picks it; another process could take it before the server binds, which
on a test machine does not happen in practice."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
