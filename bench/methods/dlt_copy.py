"""Copy PostgreSQL tables with dlt, the way its docs show: `sql_database` -> `postgres`.

    <tools venv>/bin/python bench/methods/dlt_copy.py --source URL --target URL \
        --tables Posts Users --workdir DIR

Run by the tools virtualenv (bench/requirements-tools.txt), never by sluice's own. Settings
are dlt's defaults except where the benchmark needs the existing target tables to be used:
- backend="pyarrow" (dlt's fast backend for sql_database; arrow items reach postgres as CSV
  through COPY, and get no _dlt_load_id/_dlt_id columns),
- dataset "public" and the case-sensitive `sql_cs_v1` naming convention, so that
  "PostHistory"."CreationDate" lands in the table the harness created instead of a new
  post_history.creation_date,
- write_disposition="replace" (its default truncate-and-insert strategy keeps the tables).
The pipeline starts with no local state, kept under --workdir (not ~/.dlt); telemetry is off.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

PIPELINE = "bench_dlt_copy"


def sqlalchemy_url(url: str) -> str:
    """The source URL naming psycopg2: SQLAlchemy 2.1 would pick psycopg 3, not installed."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    return url


def with_password(url: str) -> str:
    """The target URL with an empty password when it has none: dlt's postgres credentials
    insist on one, even for trust or peer authentication."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    user, at, host = netloc.rpartition("@")
    if sep and at and ":" not in user:
        return f"{scheme}://{user}:@{host}{slash}{tail}"
    return url


def main() -> None:
    """Parse the flags, run one pipeline over every table, print dlt's load summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="postgresql:// URL to read")
    parser.add_argument("--target", required=True, help="postgresql:// URL to load into")
    parser.add_argument("--tables", required=True, nargs="+", help="table names in public")
    parser.add_argument("--workdir", required=True, type=Path, help="pipeline state folder")
    args = parser.parse_args()
    # no network here: telemetry would only wait for a connection that never comes
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    shutil.rmtree(args.workdir / PIPELINE, ignore_errors=True)

    import dlt
    from dlt.sources.sql_database import sql_database

    source = sql_database(
        credentials=sqlalchemy_url(args.source),
        schema="public",
        table_names=args.tables,
        backend="pyarrow",
    )
    destination = dlt.destinations.postgres(
        credentials=with_password(args.target), naming_convention="sql_cs_v1"
    )
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE,
        pipelines_dir=str(args.workdir),
        destination=destination,
        dataset_name="public",
    )
    info = pipeline.run(source, write_disposition="replace")
    info.raise_on_failed_jobs()
    print(info)


if __name__ == "__main__":
    main()
