"""OpenLineage from `replicate_stackoverflow_postgres_to_postgres` and its incremental twin,
run with dag.test() on real PostgreSQL and Airflow's OpenLineage provider writing its events
to a file (its file transport): the copy, sync and verify tasks' COMPLETE events name each
table as OpenLineage names PostgreSQL tables, carry its columns, and count the rows that an
independent SQL count (or the test's own changes, for sync) says. One full run and one twin
run are shared by every assertion."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("airflow")
pytest.importorskip("airflow.providers.openlineage")

from tests.conftest import _fresh  # noqa: E402
from tests.dags import test_dag_run  # noqa: E402
from tests.dags.conftest import EVENTS, completed, openlineage_file  # noqa: E402
from tests.dags.test_dag_run import run_dag  # noqa: E402
from tests.independent import rows  # noqa: E402
from tests.sync.test_sync import change_source  # noqa: E402

from sluice.datasets.stackoverflow import TABLE_NAMES  # noqa: E402
from sluice.datasets.stackoverflow.generate import generate  # noqa: E402

SCALE = 0.005
FULL = "replicate_stackoverflow_postgres_to_postgres"
TWIN = f"{FULL}_incremental"
airflow_env = test_dag_run.airflow_env  # the same module-scoped fixture: a migrated home


@pytest.fixture(scope="module")
def lineage_run(airflow_env, pg_server, tmp_path_factory):
    """The full DAG (tables cut into several chunks), then changes in the source, then the
    twin. Returns the COMPLETE events by job, the databases, the changes made, the rows of
    each side counted after each DAG (by SQL of the test's own) and the events' text."""
    src_gen, dst_gen = _fresh(pg_server, "sluice_ol_src"), _fresh(pg_server, "sluice_ol_dst")
    source, target = next(src_gen), next(dst_gen)
    env = {**airflow_env, **openlineage_file(tmp_path_factory.mktemp("openlineage"))}
    try:
        generate(source, SCALE)
        run_dag(env, source, target, {"chunk_rows": 2000})
        counted = {FULL: {url: {t: count(url, t) for t in TABLE_NAMES} for url in (source, target)}}
        changes = change_source(source)
        run_dag(env, source, target, {}, TWIN)
        counted[TWIN] = {url: {t: count(url, t) for t in TABLE_NAMES} for url in (source, target)}
        text = Path(env[EVENTS]).read_text()
        yield completed(env), source, target, changes, counted, text
    finally:
        next(src_gen, None)
        next(dst_gen, None)


def count(url, table: str) -> int:
    return rows(url, f'SELECT count(*) FROM "{table}"')[0][0]


def columns(url, table: str) -> list[tuple[str, str]]:
    """The table's columns and their types as PostgreSQL's catalogue spells them."""
    return rows(url, "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum", [f'public."{table}"'])  # fmt: skip


def named(url, table: str) -> tuple[str, str]:
    """OpenLineage's naming of a PostgreSQL table: postgres://host:port, db.schema.table."""
    u = url.url
    return f"postgres://{u.host or 'localhost'}:{u.port or 5432}", f"{url.database}.public.{table}"


def by_name(datasets: list[dict], url) -> dict[str, dict]:
    """The datasets of the database at `url`, by table name."""
    namespace, prefix = named(url, "")
    return {d["name"].removeprefix(prefix): d for d in datasets
            if d["namespace"] == namespace and d["name"].startswith(prefix)}  # fmt: skip


def fields(dataset: dict) -> list[tuple[str, str]]:
    return [(f["name"], f["type"]) for f in dataset["facets"]["schema"]["fields"]]


def test_copy_chunks_emit_tables_columns_and_rows(lineage_run):
    complete, source, target, _, counted, _ = lineage_run
    chunks = complete[f"{FULL}.copy"]
    written: dict[str, int] = defaultdict(int)
    for event in chunks:
        [source_table] = by_name(event["inputs"], source).values()
        [(table, out)] = by_name(event["outputs"], target).items()
        assert source_table["name"] == named(source, table)[1]
        rows_out = out["outputFacets"]["outputStatistics"]["rowCount"]
        assert source_table["inputFacets"]["inputStatistics"]["rowCount"] == rows_out
        assert fields(out) == columns(target, table), table  # as the catalogue declares them
        written[table] += rows_out
    assert (
        max(len([e for e in chunks if table in json.dumps(e["outputs"])]) for table in TABLE_NAMES)
        > 1
    )  # fmt: skip - some table came in several chunks
    assert dict(written) == counted[FULL][target]


def test_verify_reads_both_sides_with_their_counts(lineage_run):
    complete, source, target, _, counted, _ = lineage_run
    for dag_id in (FULL, TWIN):
        job = f"{dag_id}.verify"
        [event] = complete[job]
        assert event["outputs"] == []
        sides = by_name(event["inputs"], source), by_name(event["inputs"], target)
        for url, datasets in zip((source, target), sides, strict=True):
            assert set(datasets) == set(TABLE_NAMES), job
            for table, d in datasets.items():
                assert (
                    d["inputFacets"]["inputStatistics"]["rowCount"] == counted[dag_id][url][table]
                )
                assert [n for n, _ in fields(d)] == [n for n, _ in columns(url, table)]
        for d in sides[1].values():
            checks = d["inputFacets"]["dataQualityAssertions"]["assertions"]
            failed = [c for c in checks if not c["success"] and c.get("severity") != "warning"]
            assert checks[0]["assertion"] == "row_count_equals_source" and not failed, failed


def test_sync_moves_what_changed(lineage_run):
    complete, source, target, changes, _, _ = lineage_run
    [event] = complete[f"{TWIN}.sync"]
    read, moved = by_name(event["inputs"], source), by_name(event["outputs"], target)
    assert set(read) == set(moved) == set(TABLE_NAMES)
    got = {t: d["outputFacets"]["outputStatistics"]["rowCount"] for t, d in moved.items()}
    assert {t: n for t, n in got.items() if n} == {t: sum(v) for t, v in changes.items()}
    for table, d in moved.items():
        assert fields(d) == columns(target, table), table
        inserted, updated, _ = changes.get(table, (0, 0, 0))  # deleted rows are never read
        assert read[table]["inputFacets"]["inputStatistics"]["rowCount"] >= inserted + updated


def test_no_secret_in_the_events(lineage_run):
    _, source, target, *_, text = lineage_run
    for url in (source, target):
        if url.password:
            assert url.password not in text
