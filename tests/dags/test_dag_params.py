"""DAG params are the keys of the command's job files (issue 24): read by the CLI's own parser
when a task runs, passed through to plan, copy and verify. One run of the PostgreSQL ->
PostgreSQL DAG over a multi-schema source with schemas, exclude_schemas and schema_map,
checked on the target directly."""

from __future__ import annotations

import importlib.util
import sys

import pytest

pytest.importorskip("airflow")

from tests.dags.conftest import ROOT  # noqa: E402
from tests.dags.test_dag_run import airflow_env, run_dag  # noqa: E402, F401
from tests.independent import execute  # noqa: E402
from tests.integration.test_schemas import SOURCE, counts  # noqa: E402


def dag_module():
    spec = importlib.util.spec_from_file_location(
        "t24_dag", ROOT / "dags" / "replicate_stackoverflow.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_params_select_and_map_schemas(airflow_env, pg_server):  # noqa: F811
    from tests.conftest import _fresh

    src_gen, dst_gen = _fresh(pg_server, "t24_dagp_src"), _fresh(pg_server, "t24_dagp_dst")
    source, target = next(src_gen), next(dst_gen)
    try:
        execute(source, *SOURCE)
        conf = {
            "schemas": ["public", "sales", "Sales"],
            "exclude_schemas": ["Sales"],
            "schema_map": {"sales": "archive"},
            "chunk_rows": 300,
            "workers": 2,
            "rows": True,
        }  # fmt: skip  (workers, rows: undeclared keys)
        run_dag(airflow_env, source, target, conf)
        assert counts(target) == {"a": 1, "archive.a": 2, "archive.orders": 1000}
    finally:
        next(src_gen, None)
        next(dst_gen, None)


def test_a_param_the_command_lacks_fails_the_task_naming_it():
    from airflow.sdk.exceptions import AirflowFailException

    job = dag_module().job
    with pytest.raises(AirflowFailException, match="'workerz' is not an option of sluice copy "
                                                   r"\(did you mean 'workers'\?\)"):  # fmt: skip
        job("copy", {"workerz": 2})
    with pytest.raises(AirflowFailException, match="'source' is not a param here"):
        job("copy", {"source": "postgresql://u@h/db"})
    options = job(
        "copy",
        {"memory_cap_mib": 64, "chunk_mib": 8, "deletes": True, "schema_map": {"sales": "archive"}},
    )  # the DAG's own params
    assert options.selection.schema_map == (("sales", "archive"),)
