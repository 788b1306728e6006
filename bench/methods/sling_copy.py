"""Copy PostgreSQL tables with sling: one replication, its env-var connections, mode truncate.

    <tools venv>/bin/python bench/methods/sling_copy.py --source URL --target URL \
        --tables Posts Users --workdir DIR

Run by the tools virtualenv, which carries the binary (package sling-linux-amd64). Writes
DIR/replication.json (every table `public."Name"` into the same name, mode truncate: sling's
mode that keeps the existing target tables; the default full-refresh drops and recreates
them), names the two connections through environment variables, as sling's docs do, so no
URL reaches argv or sling's log, then replaces itself with the binary (the measured process
is sling). Streams run one after another (sling's default, SLING_THREADS unset).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

SOURCE_CONN = "BENCH_SOURCE"
TARGET_CONN = "BENCH_TARGET"


def sling_url(url: str) -> str:
    """The URL with sslmode=disable when it names none: sling's driver (lib/pq) defaults to
    require and has no prefer, so a server without SSL would refuse where libpq connects."""
    if "sslmode=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}sslmode=disable"


def replication(tables: list[str]) -> dict:
    """Sling's replication config: each public table into the same, quoted, table."""
    streams = {}
    for name in tables:
        quoted = '"' + name.replace('"', '""') + '"'
        streams[f"public.{quoted}"] = {"object": f"public.{quoted}"}
    return {
        "source": SOURCE_CONN,
        "target": TARGET_CONN,
        "defaults": {"mode": "truncate"},
        "streams": streams,
    }


def main() -> None:
    """Write the replication file, set the connections, exec `sling run -r FILE`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="postgresql:// URL to read")
    parser.add_argument("--target", required=True, help="postgresql:// URL to load into")
    parser.add_argument("--tables", required=True, nargs="+", help="table names in public")
    parser.add_argument("--workdir", required=True, type=Path, help="config and state folder")
    args = parser.parse_args()

    from sling_linux_amd64 import SLING_BIN

    args.workdir.mkdir(parents=True, exist_ok=True)
    config = args.workdir / "replication.json"
    config.write_text(json.dumps(replication(args.tables), indent=2))
    env = dict(os.environ)
    env[SOURCE_CONN] = sling_url(args.source)
    env[TARGET_CONN] = sling_url(args.target)
    env["SLING_HOME_DIR"] = str(args.workdir / "home")  # not ~/.sling
    env["SLING_DISABLE_TELEMETRY"] = "true"  # no network here
    os.execve(SLING_BIN, [SLING_BIN, "run", "-r", str(config)], env)


if __name__ == "__main__":
    main()
