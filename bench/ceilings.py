"""The ceilings for bench/compare.py: each engine alone with the same rows, no copy between.

    from ceilings import Bench, methods
    found = methods(Bench(psql, source, pg_target, tables, ddl, workdir, env, prepare_target,
                          my_source, my_target))

Every method is timed like compare.py's others (a shell script of one client per table,
tables one after another, under bench/_peak.py); whatever it reads is made before the clock,
in bench/results/work/ceilings, on the first run's preparation:
- pg-file-load: PostgreSQL's own bulk load, the ceiling of X -> PostgreSQL. The source tables
  as binary COPY files (`psql -c "COPY t TO STDOUT (FORMAT binary)"`), each loaded with `psql
  -c "COPY t FROM STDIN (FORMAT binary)" < file` into the harness's target DDL. Binary rather
  than CSV: the input PostgreSQL parses fastest, and the format the pipe and sluice's writers
  send it.
- pg-file-load-csv: the same with CSV files (`COPY t TO STDOUT (FORMAT csv)`, loaded with
  `(FORMAT csv)`): the format MySQL -> PostgreSQL sends (dialects/mysql_export.py), whose
  parsing costs PostgreSQL more CPU per row than binary. x_ceiling of sluice-mysql-pg is
  taken over this one, x_ceiling_binary over pg-file-load.
- mysql-file-load: MariaDB's own bulk loader, the ceiling of X -> MariaDB. CSV files that LOAD
  DATA reads exactly: the PostgreSQL dialect's `raw_read(fmt="csv")`, the very bytes sluice's
  PostgreSQL -> MySQL path streams (every value quoted, NULL as the bare word, booleans as
  0/1), each loaded with `mariadb --local-infile=1 -e "LOAD DATA LOCAL INFILE ..."` under
  sluice's own clauses. The tables are the ones sluice makes there: one `sluice copy` whose
  `--where 'T: 1 = 0'` selects no row, read back with SHOW CREATE TABLE (AUTO_INCREMENT=n cut),
  then created in a fresh target database before each run, so the loader meets the keys,
  AUTO_INCREMENT and collations sluice-pg-mysql loads into.
- pg-export, mysql-export: each source's own fastest export into /dev/null, table after table:
  `psql -c "COPY t TO STDOUT (FORMAT binary)"`, and `mariadb --quick -B -e "SELECT * FROM t"`
  from the MariaDB copy of the source.
The mariadb (or mysql) client reads the credentials from an option file of mode 0600, never
from its command line; psql gets the URL as the pipe does.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# the sluice row -> the ceiling of its target, for its `x_ceiling`
# (the ceiling in the format the path sends, then the binary one where that differs)
CEILING_OF = {"sluice-pg-mysql": ("mysql-file-load",),
              "sluice-mysql-pg": ("pg-file-load-csv", "pg-file-load")}  # fmt: skip
NAMES = ["pg-file-load", "pg-file-load-csv", "mysql-file-load", "pg-export", "mysql-export"]

# name -> (source, target or None, argv or why it cannot run here, preparation before each run)
Method = tuple[str, str | None, list[str] | str, Callable[[], None]]


class NotPrepared(Exception):
    """A ceiling's files or target tables could not be made: the harness records it as failed."""


@dataclass(frozen=True)
class Bench:
    psql: str
    source: str  # the PostgreSQL source, bench_so_<scale>
    pg_target: str
    tables: list[str]
    ddl: list[str]  # the target DDL of compare.py's non-sluice methods
    workdir: Path
    env: dict
    fresh: Callable[[str, list[str]], None]  # compare.prepare_target
    my_source: str | None = None  # the MariaDB copy of the source
    my_target: str | None = None


def methods(b: Bench) -> dict[str, Method]:
    """The four ceilings, each with its argv (or why not) and what to make before each run."""
    folder = b.workdir / "ceilings"
    found: dict[str, Method] = {
        "pg-export": (b.source, None, _bash(_pg_export(b.psql, b.source, b.tables)), _nothing),
    }
    for name, fmt in (("pg-file-load", "binary"), ("pg-file-load-csv", "csv")):
        files = {t: folder / "pg" / f"{n}.{fmt}" for n, t in enumerate(b.tables)}
        export = functools.cache(functools.partial(_export_pg, b.psql, b.source, files, fmt))

        def prepare(export=export) -> None:
            export()
            b.fresh(b.pg_target, b.ddl)

        load = _bash(_pg_load(b.psql, b.pg_target, files, fmt))
        found[name] = (b.source, b.pg_target, load, prepare)
    client = shutil.which("mariadb") or shutil.which("mysql")
    why = None
    if b.my_source is None or b.my_target is None:
        why = "needs --mysql URL"
    elif client is None:
        why = "no mariadb or mysql client on PATH (Debian: apt-get install mariadb-client)"
    if why or client is None or b.my_source is None or b.my_target is None:
        found["mysql-file-load"] = found["mysql-export"] = (b.source, None, str(why), _nothing)
        return found
    source_cnf = _option_file(b.my_source, folder / "source.cnf")
    target_cnf = _option_file(b.my_target, folder / "target.cnf")
    dump = _mysql_export(client, source_cnf, b.my_source, b.tables)
    found["mysql-export"] = (b.my_source, None, _bash(dump), _nothing)
    if not _local_infile(b.my_target):
        found["mysql-file-load"] = (b.source, None, "the server's local_infile is OFF", _nothing)
        return found
    from sluice.copy.reflect import reflect_tables
    from sluice.core.urls import DbUrl

    reflected = reflect_tables(DbUrl.parse(b.source), b.tables)
    csv_files = {t: folder / "mysql" / f"{n}.csv" for n, t in enumerate(b.tables)}
    csv_export = functools.cache(functools.partial(_export_csv, b.source, reflected, csv_files))
    my_ddl = functools.cache(functools.partial(_mysql_ddl, b.source, b.my_target, b.tables, b.env))

    def my_prepare() -> None:
        csv_export()
        b.fresh(b.my_target, my_ddl())

    load = _mysql_load(client, target_cnf, b.my_target, reflected, csv_files)
    found["mysql-file-load"] = (b.source, b.my_target, _bash(load), my_prepare)
    return found


def clean(workdir: Path) -> None:
    """Remove the ceilings' files (as large as the source: 5 GB each kind at scale 1.0)."""
    shutil.rmtree(workdir / "ceilings", ignore_errors=True)


def _nothing() -> None:
    return None


def _bash(lines: list[str]) -> list[str]:
    return ["bash", "-c", "\n".join(["set -eo pipefail", *lines])]


def _quote(url: str, name: str) -> str:
    """An identifier quoted by the dialect of the URL's engine."""
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    return get_dialect(DbUrl.parse(url).engine).quote(name)


def _pg_load(psql: str, target: str, files: dict[str, Path], fmt: str) -> list[str]:
    return [f"{shlex.quote(psql)} -q {shlex.quote(target)} -c "
            f"{shlex.quote(f'COPY {_quote(target, t)} FROM STDIN (FORMAT {fmt})')} "
            f"< {shlex.quote(str(path))}" for t, path in files.items()]  # fmt: skip


def _pg_export(psql: str, source: str, tables: list[str]) -> list[str]:
    return [f"{shlex.quote(psql)} -q {shlex.quote(source)} -c "
            f"{shlex.quote(f'COPY {_quote(source, t)} TO STDOUT (FORMAT binary)')} > /dev/null"
            for t in tables]  # fmt: skip


def _export_pg(psql: str, source: str, files: dict[str, Path], fmt: str) -> None:
    """Each table's COPY in `fmt` into its file, by psql (the URL stays off any message)."""
    for table, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        sql = f"COPY {_quote(source, table)} TO STDOUT (FORMAT {fmt})"
        with open(path, "wb") as out:
            done = subprocess.run([psql, "-q", source, "-c", sql], stdout=out,
                                  stderr=subprocess.PIPE, text=True)  # fmt: skip
        if done.returncode:
            raise NotPrepared(f"exporting {table} failed: {_last_line(done.stderr)}")


def _export_csv(source: str, tables: list, files: dict[str, Path]) -> None:
    """Each table as the CSV sluice hands LOAD DATA, written by the dialect's raw export."""
    from sluice.core.errors import SluiceError
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    url = DbUrl.parse(source)
    d = get_dialect(url.engine)
    try:
        conn = d.connect(url)
        try:
            for table in tables:
                files[table.name].parent.mkdir(parents=True, exist_ok=True)
                with open(files[table.name], "wb") as out:
                    for block in d.raw_read(conn, table, None, None, fmt="csv"):
                        out.write(block)
            conn.rollback()
        finally:
            conn.close()
    except SluiceError as exc:
        raise NotPrepared(f"exporting CSV failed: {exc}") from None


def _mysql_ddl(source: str, target: str, tables: list[str], env: dict) -> list[str]:
    """The CREATE TABLE of every table as sluice makes it on MariaDB: a copy of no row."""
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    none = [arg for t in tables for arg in ("--where", f"{t}: 1 = 0")]
    cmd = [sys.executable, "-m", "sluice.cli", "copy", "--source", source, "--target", target,
           "--tables", ",".join(tables)]  # fmt: skip
    done = subprocess.run([*cmd, *none], env=env, capture_output=True, text=True)
    if done.returncode:
        raise NotPrepared(f"sluice copy of no row failed: {_last_line(done.stderr)}")
    url = DbUrl.parse(target)
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        ddl = []
        for table in tables:
            cur.execute(f"SHOW CREATE TABLE {d.quote(table)}")
            ddl.append(re.sub(r" AUTO_INCREMENT=\d+", "", cur.fetchone()[1]))
        return ddl
    finally:
        conn.close()


def _local_infile(url: str) -> bool:
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    parsed = DbUrl.parse(url)
    return get_dialect(parsed.engine).raw_import_ready(parsed)


def _option_file(url: str, path: Path) -> Path:
    """A [client] option file with the URL's host, port, user and password, mode 0600."""
    from sluice.core.urls import DbUrl

    parsed = DbUrl.parse(url)
    u = parsed.url
    lines = ["[client]", "protocol=TCP", f"host={u.host or 'localhost'}", f"port={u.port or 3306}",
             f"user={_option(u.username or 'root')}"]  # fmt: skip
    if parsed.password is not None:
        lines.append(f"password={_option(parsed.password)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")
    return path


def _option(value: str) -> str:
    """An option file value, quoted: the client undoes \\\\ and \\" inside double quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _client(client: str, cnf: Path, url: str) -> str:
    """The client's command line: its option file first (it must lead), then the database."""
    from sluice.core.urls import DbUrl

    database = DbUrl.parse(url).database or ""
    return (f"{shlex.quote(client)} --defaults-extra-file={shlex.quote(str(cnf))} "
            f"--database={shlex.quote(database)}")  # fmt: skip


def _mysql_export(client: str, cnf: Path, source: str, tables: list[str]) -> list[str]:
    run = _client(client, cnf, source)
    return [f"{run} --quick -B -e {shlex.quote(f'SELECT * FROM {_quote(source, t)}')} "
            "> /dev/null" for t in tables]  # fmt: skip


def _mysql_load(
    client: str, cnf: Path, target: str, tables: list, files: dict[str, Path]
) -> list[str]:
    """One LOAD DATA LOCAL per table, with the clauses of the MySQL dialect's raw_write."""
    run = _client(client, cnf, target)
    lines = []
    for table in tables:
        names = ", ".join(_quote(target, c) for c in table.column_names)
        path = str(files[table.name]).replace("\\", "\\\\").replace("'", "''")
        sql = (f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE {_quote(target, table.name)} "
               "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
               f"ESCAPED BY '' LINES TERMINATED BY '\\n' ({names})")  # fmt: skip
        lines.append(f"{run} --local-infile=1 -e {shlex.quote(sql)}")
    return lines


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no message"
