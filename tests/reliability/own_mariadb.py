"""A MariaDB server of the test's own: a private data folder in a temporary directory, its own
port, started and stopped by the test (never the system's service), as `relay.OwnPostgres`
is for PostgreSQL. Needs the `mariadbd` and `mariadb-install-db` binaries (Debian's
mariadb-server) and root (the server runs as user `mysql`); `available()` says whether
this machine has them, and `missing()` why not.

With `tablespace="24M"`, every table lives in one system tablespace of that fixed size
(`innodb_data_file_path` without autoextend, `innodb_file_per_table` off): the tables fill
it up, a full disk on a real server without touching anyone else's. (A tmpfs mounted as a
database's folder fills up too, but MariaDB 10.11 then aborts: "[FATAL] InnoDB: Error (Out
of disk space) in rollback", signal 6, when the rollback of the failed load needs a page;
docs/reliability.md.)

`extra_args` go to the server as given (`--log-bin`, `--binlog-format=ROW`,
`--server-id=1`: a binlog for change capture's tests); with a `--log-bin` among them the
default `--skip-log-bin` is left out."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from sluice.core.urls import DbUrl
from tests.ports import free_port


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for d in ("/usr/sbin", "/usr/bin") if (p := Path(d) / name).exists()), None
        )
        if found:
            return found
    return None


class OwnMariaDB:
    SERVER = ("mariadbd", "mysqld")
    INSTALL = ("mariadb-install-db", "mysql_install_db")

    def __init__(self, folder: Path, tablespace: str | None = None,
                 extra_args: Sequence[str] = ()):  # fmt: skip
        self.folder = folder
        self.extra_args = list(extra_args)
        self.innodb = [f"--innodb-data-file-path=ibdata1:{tablespace}",
                       "--innodb-file-per-table=0"] if tablespace else []  # fmt: skip
        self.data = folder / "data"
        self.log = folder / "error.log"
        self.socket = folder / "mysqld.sock"
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "mysql", "mysql")
        subprocess.run([_binary(*self.INSTALL), "--no-defaults", "--user=mysql",
                        f"--datadir={self.data}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", *self.innodb], check=True, capture_output=True,
                       timeout=120)  # fmt: skip
        self.proc: subprocess.Popen | None = None
        self.start()

    @classmethod
    def missing(cls) -> str | None:
        """Why a server of our own cannot run here, or None."""
        if _binary(*cls.SERVER) is None or _binary(*cls.INSTALL) is None:
            return "needs MariaDB's mariadbd and mariadb-install-db binaries (mariadb-server)"
        if os.geteuid() != 0:
            return "needs root to run a MariaDB server of our own as user mysql"
        try:
            import pwd

            pwd.getpwnam("mysql")
        except KeyError:
            return "needs the system user mysql to run a MariaDB server of our own"
        return None

    @property
    def url(self) -> DbUrl:
        return DbUrl.parse(f"mysql+pymysql://root@127.0.0.1:{self.port}/mysql")

    def start(self) -> None:
        cmd = [_binary(*self.SERVER), "--no-defaults", "--user=mysql", f"--datadir={self.data}",
               f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.socket}",
               f"--pid-file={self.folder / 'mysqld.pid'}", f"--log-error={self.log}",
               "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
               "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=64M",
               "--innodb-flush-log-at-trx-commit=0", "--local-infile=1",
               "--max-connections=200", *self.innodb, *self.extra_args]  # fmt: skip
        if not any(a.startswith("--log-bin") for a in self.extra_args):
            cmd.append("--skip-log-bin")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {self.log.read_text()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("mariadbd did not listen within 60 s")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): the server ends every session, as a restart does."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
