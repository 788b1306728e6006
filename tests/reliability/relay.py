"""Test helpers for network and server faults: a TCP relay the test controls, and a
throwaway PostgreSQL server it may stop and start.

The relay forwards 127.0.0.1:<port> (or another address of this machine) to a server.
`freeze()` stops forwarding on the connections open at that moment (sockets stay open, no
FIN, no RST: a dropped NAT entry or a host that failed over, as the client sees it); new
connections still work unless `freeze_new` is set. `reset()` ends the open connections with
an RST (SO_LINGER 0) on both sides. `trigger` runs an action once `when` bytes went one way
(server to client: "down", client to server: "up"), so faults land mid-COPY."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from tests.ports import free_port


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket):
        self.client, self.server = client, server
        self.frozen = False
        self.closed = False


class Relay:
    def __init__(self, host: str, port: int, unix_path: str | None = None,
                 listen: str = "127.0.0.1"):  # fmt: skip
        self.target = (host, port)
        self.unix_path = unix_path  # a server listening on a Unix socket only (embedded)
        self.listen = listen  # the address it listens on (a free port there)
        self.listener = socket.create_server((listen, 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[_Pair] = []
        self.lock = threading.Lock()
        self.moved = {"up": 0, "down": 0}
        self.freeze_new = False
        self.triggers: list[tuple[str, int, object]] = []
        self.fired: list[float] = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def to(cls, url, listen: str = "127.0.0.1") -> Relay:
        """A relay to the server of a sluice URL: its TCP host and port, or the Unix socket
        that a `?host=/dir` URL names (the embedded PostgreSQL listens on nothing else)."""
        folder = url.url.query.get("host")
        port = url.url.port or 5432
        if isinstance(folder, str) and folder.startswith("/"):
            return cls("127.0.0.1", port, f"{folder}/.s.PGSQL.{port}", listen)
        return cls(url.url.host or "127.0.0.1", port, listen=listen)

    def _upstream(self) -> socket.socket:
        if self.unix_path is None:
            return socket.create_connection(self.target, timeout=5)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.unix_path)
        return s

    # --- control -------------------------------------------------------------------------
    def freeze(self) -> int:
        with self.lock:
            live = [p for p in self.pairs if not p.closed]
            for p in live:
                p.frozen = True
        return len(live)

    def reset(self) -> int:
        with self.lock:
            live = [p for p in self.pairs if not p.closed]
        for p in live:
            self._close(p, rst=True)
        return len(live)

    def trigger(self, direction: str, after: int, action) -> None:
        """Run `action()` once `after` more bytes went `direction` ("up"/"down")."""
        with self.lock:
            self.triggers.append((direction, self.moved[direction] + after, action))

    def close(self) -> None:
        self.stopping = True
        self.listener.close()
        with self.lock:
            live = list(self.pairs)
        for p in live:
            self._close(p, rst=True)

    # --- plumbing ------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = self._upstream()
                server.settimeout(None)
            except OSError:
                self._rst(client)
                continue
            pair = _Pair(client, server)
            pair.frozen = self.freeze_new
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: _Pair) -> None:
        sel = selectors.DefaultSelector()
        sel.register(pair.client, selectors.EVENT_READ, ("up", pair.server))
        sel.register(pair.server, selectors.EVENT_READ, ("down", pair.client))
        try:
            while not pair.closed:
                if pair.frozen:  # read nothing, send nothing: the peers' windows fill up
                    time.sleep(0.05)
                    continue
                for key, _ in sel.select(timeout=0.1):
                    direction, dest = key.data
                    data = key.fileobj.recv(65536)
                    if not data:
                        self._close(pair, rst=False)
                        return
                    if pair.frozen:
                        break  # frozen meanwhile: this block is never delivered
                    dest.sendall(data)
                    self._count(direction, len(data))
        except OSError:
            self._close(pair, rst=False)
        finally:
            sel.close()

    def _count(self, direction: str, n: int) -> None:
        due = []
        with self.lock:
            self.moved[direction] += n
            for t in list(self.triggers):
                if t[0] == direction and self.moved[direction] >= t[1]:
                    self.triggers.remove(t)
                    due.append(t[2])
        for action in due:
            self.fired.append(time.monotonic())
            action()

    def _close(self, pair: _Pair, rst: bool) -> None:
        if pair.closed:
            return
        pair.closed = True
        for s in (pair.client, pair.server):
            if rst:
                self._rst(s)
            else:
                with contextlib.suppress(OSError):
                    s.close()

    @staticmethod
    def _rst(s: socket.socket) -> None:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass


class OwnPostgres:
    """A PostgreSQL 15 server of the test's own (Debian's binaries, run as user postgres, a
    temporary data folder, a free port): stopped and started at will, never the shared one."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self, folder: Path, settings: dict[str, str] | None = None):
        self.data = folder / "data"
        self.log = folder / "log"
        self.settings = settings or {}  # server settings, e.g. {"wal_level": "logical"}
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o777)
        self._as_postgres([str(self.BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--no-sync"])  # fmt: skip
        self.start()

    @classmethod
    def available(cls) -> bool:
        return (cls.BIN / "pg_ctl").exists() and os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, cmd: list[str]) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    def start(self) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k /tmp -c fsync=off"
        opts += "".join(f" -c {k}={v}" for k, v in self.settings.items())
        self._as_postgres([str(self.BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                           "-o", opts, "-w", "start"])  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres([str(self.BIN / "pg_ctl"), "-D", str(self.data), "-m", mode,
                           "-w", "stop"])  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
