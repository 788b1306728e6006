"""Third-party copy tools for bench/compare.py: dlt, sling and pgloader, each as one argv.

dlt and sling are Python packages pinned in bench/requirements-tools.txt and installed into
their own virtualenv, bench/.venv-tools, so that their dependencies (SQLAlchemy, pyarrow, a
260 MB binary) never meet sluice's. pgloader comes from the system (Debian: apt-get install
pgloader). Every method copies the tables of schema public into the tables the harness has
already created in the target, and says in SCHEMA_CHANGES what else it leaves there.

    from tools import third_party
    argv = third_party(source_url, target_url, ["Posts", "Users"], Path("/tmp/work"))
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

BENCH = Path(__file__).resolve().parent
TOOLS_VENV = BENCH / ".venv-tools"
REQUIREMENTS = BENCH / "requirements-tools.txt"
METHODS = BENCH / "methods"
STAMP = TOOLS_VENV / "requirements.sha256"

# What each method leaves in the target beyond the rows, as seen with \d after a run at
# scale 0.01 (pg_dump --schema-only compared with the harness's DDL).
SCHEMA_CHANGES: dict[str, str] = {
    "dlt": (
        "Loads into the existing tables unchanged (sql_cs_v1 naming keeps the CamelCase names, "
        "the pyarrow backend adds no _dlt_load_id/_dlt_id columns), but creates three "
        "bookkeeping tables in public: _dlt_loads, _dlt_pipeline_state and _dlt_version."
    ),
    "sling": (
        "None: mode truncate stages each table in a temporary public.<lowercase name>_tmp "
        "table, dropped afterwards, then truncates and inserts into the existing table, "
        "whose columns, types, NOT NULL and primary key stay as created."
    ),
    "pgloader": (
        "None: WITH data only, truncate (and prefetch rows = 10000, workers = 2, concurrency = "
        "1, batch rows = 10000: the defaults crashed on an exhausted heap) issues only "
        "TRUNCATE and COPY into the existing "
        "tables (it warns that its default cast would make varchar text, but "
        "data only creates nothing)."
    ),
}


def _venv_python() -> Path:
    """Where the tools venv keeps its interpreter (POSIX layout: the benchmarks run on Linux)."""
    return TOOLS_VENV / "bin" / "python"


def _run(step: list[str]) -> str | None:
    """None when the command succeeds, else a sentence naming it and its last error line."""
    try:
        done = subprocess.run(step, capture_output=True, text=True)
    except OSError as exc:
        return f"cannot run {Path(step[0]).name}: {exc.strerror}"
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    last = lines[-1] if lines else f"exit code {done.returncode}"
    return f"building {TOOLS_VENV.name} failed at `{' '.join(step[1:4])}`: {last}"


def tools_python() -> Path | str:
    """The tools venv's python, (re)built when missing or when the requirements changed;
    a sentence saying why when it cannot be built (the harness prints it and skips)."""
    python = _venv_python()
    try:
        digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    except OSError as exc:
        return f"cannot read {REQUIREMENTS.name}: {exc.strerror}"
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return python
    # from scratch (--clear), so that a pin removed from the file leaves the venv too
    failed = _run([sys.executable, "-m", "venv", "--clear", str(TOOLS_VENV)])
    if failed:
        return failed
    # git, and so ruff, leave the venv alone (Python 3.13's venv writes this file itself)
    (TOOLS_VENV / ".gitignore").write_text("*\n")
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    failed = _run([*pip, "-r", str(REQUIREMENTS)])
    if failed:
        return failed
    STAMP.write_text(digest + "\n")
    return python


def pgloader_url(url: str) -> str:
    """A postgresql:// URL in pgloader's own syntax: no percent-decoding there, so user and
    password go in decoded, with ':' in the user and '@' in both doubled as its docs say."""
    parts = urlsplit(url)
    user = unquote(parts.username or "").replace(":", "::").replace("@", "@@")
    password = parts.password
    auth = user
    if password is not None:
        auth += ":" + unquote(password).replace("@", "@@")
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"pgsql://{auth}{'@' if auth else ''}{host}{port}{parts.path}{query}"


def pgloader_load_file(source: str, target: str, tables: list[str]) -> str:
    """pgloader's command for a data-only copy of `tables` of schema public."""
    names = ", ".join(f"'{name}'" for name in tables)
    return (
        "LOAD DATABASE\n"
        f"  FROM {pgloader_url(source)}\n"
        f"  INTO {pgloader_url(target)}\n"
        # data only: COPY into the existing tables, nothing created or dropped. Its default
        # downcase identifiers leaves these names alone: from a pgsql source, mixed-case
        # names arrive quoted, and the load finds "PostHistory" (checked with 3.6.7)
        # prefetch rows: its default of 100,000 rows queued per table exhausted the 1 GiB
        # SBCL heap of Debian's build on Posts at scale 0.1 ("Heap exhausted during garbage
        # collection"); 10,000 is the remedy its users report (dimitri/pgloader#962). That
        # alone then failed with "Failed to start the monitor thread"; with two workers, one
        # concurrent COPY per table and 10,000-row batches it completes (checked with 3.6.7
        # at scale 0.1: 15.4 s, 501 MiB peak, on a busy machine)
        "  WITH data only, truncate, prefetch rows = 10000, workers = 2, concurrency = 1,\n"
        "       batch rows = 10000\n"
        f"  INCLUDING ONLY TABLE NAMES MATCHING {names} IN SCHEMA 'public';\n"
    )


def _pgloader(source: str, target: str, tables: list[str], workdir: Path) -> list[str] | str:
    """pgloader's argv and its load file in workdir, or why not: it is a system package."""
    binary = shutil.which("pgloader")
    if binary is None:
        return "pgloader not on PATH (Debian: apt-get install pgloader)"
    if any("'" in name for name in tables):
        return "pgloader's table list cannot quote a name containing '"
    folder = workdir / "pgloader"
    folder.mkdir(parents=True, exist_ok=True)
    command = folder / "copy.load"
    # the URLs may carry passwords: readable by the owner only
    fd = os.open(command, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(pgloader_load_file(source, target, tables))
    return [binary, "--root-dir", str(folder / "root"), str(command)]


def third_party(
    source: str, target: str, tables: list[str], workdir: Path
) -> dict[str, list[str] | str]:
    """Method name -> the argv that copies `tables` from `source` into `target`, or why that
    method is unavailable. Builds the tools venv on first use; writes configs into workdir."""
    python = tools_python()
    shared = ["--source", source, "--target", target, "--tables", *tables]
    methods: dict[str, list[str] | str] = {}
    if isinstance(python, str):
        methods["dlt"] = methods["sling"] = python
    else:
        for name in ("dlt", "sling"):
            script = str(METHODS / f"{name}_copy.py")
            methods[name] = [str(python), script, *shared, "--workdir", str(workdir / name)]
    methods["pgloader"] = _pgloader(source, target, tables, workdir)
    return methods
