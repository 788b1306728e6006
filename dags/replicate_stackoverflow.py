"""The StackOverflow replication DAGs, built from the small config below.

Each full DAG (manual) follows sluice's flow: plan -> prepare -> copy (mapped over key-range
chunks, in the `stackoverflow_replication` pool) -> publish (mapped over tables; each swaps
its table in with its identity aligned and its keys made) -> finish (runs even when a publish
failed: the tables that published are finished) -> verify (checksums per key range and
data-quality checks; each table's Asset then gets an event carrying its figures). Its
incremental twin, `<dag_id>_incremental` (hourly), runs sync (only the rows inserted, updated
or deleted since the last run, by per-table watermarks, or with change capture chosen, the
source's own log since the replica's position) -> the same verify; it needs a replica the
full DAG made. Copy, sync and verify report their tables, columns and row counts to
OpenLineage when its provider has a transport (`sluice.airflow.lineage`, docs/airflow.md).
Every task calls one function of `sluice.airflow.tasks`;
connections are opened inside tasks only, so parsing this file touches no database. The
engine of each side follows from its connection type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, AssetAlias, Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from sluice.airflow import lineage
from sluice.airflow import tasks as sluice_tasks
from sluice.airflow.callbacks import failure_callbacks, task_failure_callbacks
from sluice.core.errors import DataError
from sluice.datasets.stackoverflow import TABLE_NAMES


@dataclass(frozen=True)
class Pipeline:
    dag_id: str
    source: str  # Airflow connection ids
    target: str
    target_database: str | None = None  # created when missing (the connection may say master)
    description: str = ""
    # change capture (docs/cdc.md): the full DAG's plan task starts it, the incremental twin
    # applies the source's log instead of watermarks. Also chosen by listing the dag_id in
    # $SLUICE_CDC_PIPELINES. Off by default: a slot nobody reads holds the source's WAL.
    cdc: bool = False

    @property
    def captures(self) -> bool:
        return self.cdc or self.dag_id in os.environ.get("SLUICE_CDC_PIPELINES", "").split(",")


PIPELINES = (
    Pipeline(
        "replicate_stackoverflow_to_target",
        "stackoverflow_source",
        "stackoverflow_target",
        target_database="stackoverflow_target",
        description="StackOverflow2010: SQL Server -> SQL Server",
    ),
    Pipeline(
        "replicate_stackoverflow_to_postgres",
        "stackoverflow_source",
        "stackoverflow_postgres_target",
        description="StackOverflow2010: SQL Server -> PostgreSQL",
    ),
    Pipeline(
        "replicate_stackoverflow_postgres_to_postgres",
        "stackoverflow_postgres_source",
        "stackoverflow_postgres_target",
        description="StackOverflow2010: PostgreSQL -> PostgreSQL",
    ),
)

POOL = "stackoverflow_replication"  # 16 slots, declared in airflow_settings.yaml
DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 3,
    "retry_delay": timedelta(seconds=10),
    "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3.3 (True meant 2.0)
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": task_failure_callbacks(),  # the alert: SLUICE_FAILURE_NOTIFIER
}
PARAMS = {
    "tables": Param(
        [], type="array", items={"type": "string"}, description="tables to copy; empty means all"
    ),  # fmt: skip
    "memory_cap_mib": Param(
        128, type="integer", minimum=8, description="memory cap of each copy task, MiB"
    ),  # fmt: skip
    "chunk_rows": Param(250_000, type="integer", minimum=1, description="rows per chunk, at most"),
    "chunk_mib": Param(
        128,
        type="integer",
        minimum=1,
        description="MiB of source table per chunk, about (larger than the CLI's 32: each task "
        "instance costs a process start)",
    ),  # fmt: skip
    "allow_lossy": Param(False, type="boolean", description="accept lossy type conversions"),
    # the CLI's selection and value options, read by sluice.airflow.tasks.value_options
    "exclude_tables": Param([], type="array", items={"type": "string"},
                            description="tables left out (--exclude-tables)"),
    "skip_refused": Param(False, type="boolean", description="skip refused tables, naming each "
                          "(--skip-refused)"),
    "carry_as_text": Param(False, type="boolean", description="carry types the target lacks "
                           "as the source's text (--carry-as-text)"),
    "zero_dates": Param("error", enum=["error", "null", "-infinity"],
                        description="MySQL zero dates (--zero-dates)"),
    "nul": Param("error", enum=["error", "strip", "replace"],
                 description="NUL in text bound for PostgreSQL (--nul)"),
    "enums": Param("varchar", enum=["varchar", "type"], description="a MariaDB ENUM as a "
                   "varchar or a PostgreSQL enum type (--enums)"),
    "schemas": Param([], type="array", items={"type": "string"},
                     description="only these schemas; empty means every schema (--schemas)"),
    "exclude_schemas": Param([], type="array", items={"type": "string"},
                             description="schemas left out (--exclude-schemas)"),
    "schema_map": Param({}, type="object", additionalProperties={"type": "string"},
                        description="source schema -> target schema, e.g. {\"dbo\": \"so\"} "
                        "(--schema-map)"),
    "identifiers": Param("preserve", enum=["preserve", "lower", "snake"],
                         description="target names as the source's, lower-cased or snake_case "
                         "(--identifiers); the incremental twin must be given the same"),
    "where": Param({}, type="object", additionalProperties={"type": "string"},
                   description="row filters in the source's SQL, table -> condition, e.g. "
                   "{\"Posts\": \"CreationDate >= '2009-01-01'\"} (--where)"),
    "exclude_columns": Param([], type="array", items={"type": "string"},
                             description="columns left out, table.column (--exclude-columns)"),
    "mask": Param({}, type="object", additionalProperties={"type": "string"},
                  description="table.column -> hash | null | fixed:VALUE; hash is keyed by "
                  "SLUICE_MASK_KEY in the workers' environment (--mask)"),
    "fail_on_not_carried": Param(False, type="boolean", description="fail the plan task, before "
                                 "any table is touched, when the source has anything the copy "
                                 "does not create: triggers, routines, policies, grants, ... "
                                 "(--fail-on-not-carried; the plan task's log lists them)"),
    "collations": Param("source", enum=["source", "target"], description="column collations "
                        "as the source's (or the target's equivalent: case-insensitive stays "
                        "so) or the target's default, each listed as not carried (--collations)"),
}  # fmt: skip
VALUE_PARAMS = ("allow_lossy", "exclude_tables", "skip_refused", "carry_as_text", "zero_dates",
                "nul", "enums", "schemas", "exclude_schemas", "schema_map",
                "identifiers", "where", "exclude_columns", "mask",
                "fail_on_not_carried", "collations")  # fmt: skip
# Any other key of the command's job files (docs/selection.md "Job files") may be given in a
# run's conf too: `job` reads them all, with the CLI's own parser, when a task runs.
DAG_ONLY = ("memory_cap_mib", "chunk_mib", "deletes")  # params this file reads itself
SET_HERE = {
    "source": "the DAG's source connection says where to read",
    "target": "the DAG's target connection says where to write",
    "memory_cap": "use memory_cap_mib",
    "chunk_size": "use chunk_mib",
    "no_deletes": "use deletes",
    "cdc": "change capture is the pipeline's choice (SLUICE_CDC_PIPELINES, docs/cdc.md)",
    "cdc_name": "change capture is the pipeline's choice (SLUICE_CDC_PIPELINES, docs/cdc.md)",
    "batch_changes": "change capture is the pipeline's choice (SLUICE_CDC_PIPELINES)",
}
SYNC_PARAMS = {
    **{name: PARAMS[name] for name in ("tables", "memory_cap_mib", *VALUE_PARAMS)},
    "deletes": Param(True, type="boolean", description="find and apply rows deleted in the source"),
}
TAGS = ["sluice", "stackoverflow", "replication"]


def job(command: str, params) -> object:
    """The run's params as `sluice <command>`'s options: the keys of its job files, checked
    by the same code (sluice.cli.jobfile) when a task runs, never when this file is parsed.
    A param the command does not know fails the task at once, naming it."""
    from sluice.cli.dagparams import job_options
    from sluice.core.errors import ConfigError

    given = {k: v for k, v in dict(params or {}).items() if k not in DAG_ONLY}
    try:
        return job_options(command, given, where="DAG params", refused=SET_HERE)
    except ConfigError as exc:  # another try would read the same params
        raise AirflowFailException(str(exc)) from None


def table_assets(p: Pipeline) -> list[Asset]:
    """One Asset per replicated table, named after the target connection."""
    return [Asset(name=f"{p.target}.{t}", uri=f"sluice://{p.target}/{t}") for t in TABLE_NAMES]


def verify_task(p: Pipeline, dag_id: str):
    """The verify task of both DAGs of a pipeline: reports under `<dag_id>/`, and an event
    with the figures on each verified table's Asset (shared by the full DAG and its twin)."""
    ends = sluice_tasks.Endpoints(p.source, p.target, p.target_database)
    verified = AssetAlias(f"{dag_id}.verified")

    # one XCom: the headline dict, whole; lineage: both sides of each table, with row counts
    @lineage.task(outlets=[verified], multiple_outputs=False)
    def verify(
        table_names: list[str],
        capture: dict | None = None,
        copied: list[dict] | None = None,  # the copy tasks' or the sync task's figures
        synced: dict | None = None,
        dag_run=None,
        outlet_events=None,
        params=None,
    ) -> dict:
        try:
            headline = sluice_tasks.verify_replica(
                ends,
                table_names,
                dag_id,
                dag_run.run_id,
                params,
                job("verify", params),
                run_started=dag_run.start_date,
                copied=copied and list(copied),
                synced=synced,
            )
        except DataError as exc:  # a differing replica stays different: no retries
            raise AirflowFailException(str(exc)) from None
        for figures in headline["tables"].values():
            table = figures["target_table"]  # the Asset is the target's table, as named there
            asset = Asset(name=f"{p.target}.{table}", uri=f"sluice://{p.target}/{table}")
            if capture:  # the twin's change capture: how far behind the replica is
                figures = {**figures, "cdc_position": capture["after"],
                           "cdc_lag_bytes": capture["lag_bytes"],
                           "cdc_lag_seconds": capture["lag_seconds"]}  # fmt: skip
            outlet_events[verified].add(asset, extra=figures)
        return headline

    return verify


def build(p: Pipeline):
    ends = sluice_tasks.Endpoints(p.source, p.target, p.target_database)
    verify = verify_task(p, p.dag_id)

    @dag(
        dag_id=p.dag_id,
        description=p.description,
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        params=PARAMS,
        tags=TAGS,
        on_failure_callback=failure_callbacks(),
        doc_md=__doc__,
    )
    def pipeline():
        @task(multiple_outputs=False)  # the plan is one value, never split key by key
        def plan(params=None) -> dict:
            if p.captures:  # before the first chunk is read (sluice copy --cdc)
                from sluice.airflow import capture

                capture.start(ends, params["tables"], job("copy", params))
            chunk_bytes = params["chunk_mib"] * 2**20
            return sluice_tasks.plan(ends, params["tables"], params["chunk_rows"],
                                     params["allow_lossy"], chunk_bytes, params,
                                     job("copy", params))  # fmt: skip

        @task
        def prepare(plan_data: dict) -> None:
            sluice_tasks.prepare_target(ends, plan_data)

        @task
        def chunks(plan_data: dict) -> list[dict]:
            return sluice_tasks.chunk_list(plan_data)

        @lineage.task(  # lineage: source table in, target table out, the chunk's rows
            pool=POOL,
            map_index_template="{{ task.op_kwargs['chunk']['table'] }}",
            multiple_outputs=False,
        )
        def copy(chunk: dict, plan_data: dict, params=None) -> dict:
            return sluice_tasks.copy_one_chunk(ends, plan_data, chunk,
                                               params["memory_cap_mib"] << 20, params,
                                               job("copy", params))  # fmt: skip

        @task
        def tables(plan_data: dict) -> list[str]:
            return sluice_tasks.table_list(plan_data)

        @task(multiple_outputs=False)
        def publish(table: str, plan_data: dict) -> dict:
            return sluice_tasks.publish(ends, plan_data, table)

        # all_done: the tables that did publish are finished even when another table's
        # publish (or a chunk) failed; each publish already made its own identity and keys,
        # this validates them and makes what a publish could not (ADR 0021)
        @task(trigger_rule="all_done", multiple_outputs=False)
        def finish(plan_data: dict) -> dict:
            return sluice_tasks.finish_target(ends, plan_data)

        planned = plan()
        copied = copy.partial(plan_data=planned).expand(chunk=chunks(planned))
        prepare(planned) >> copied
        names = tables(planned)
        done = publish.partial(plan_data=planned).expand(table=names)
        copied >> done
        finished = finish(planned)
        done >> finished
        checked = verify(names, copied=copied)
        finished >> checked
        done >> checked  # a table that failed to publish: no verify (the run has failed)

    return pipeline()


def build_incremental(p: Pipeline):
    """The full DAG's scheduled twin: sync (only what changed since the last run) -> verify."""
    ends = sluice_tasks.Endpoints(p.source, p.target, p.target_database)
    dag_id = f"{p.dag_id}_incremental"
    verify = verify_task(p, dag_id)

    @dag(
        dag_id=dag_id,
        description=f"{p.description}, incremental: sync then verify",
        schedule="@hourly",
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=True,  # it needs a replica: unpause it after the full DAG ran
        default_args=DEFAULT_ARGS,
        params=SYNC_PARAMS,
        tags=[*TAGS, "incremental"],
        on_failure_callback=failure_callbacks(),
        doc_md=__doc__,
    )
    def incremental():
        @lineage.task(pool=POOL, multiple_outputs=True)  # lineage: rows read and moved
        def sync(params=None) -> dict:
            if p.captures:  # the source's own log since the replica's position
                from sluice.airflow import capture

                return capture.sync(ends, params["tables"], params["memory_cap_mib"] << 20,
                                    p.dag_id, job("sync", params))  # fmt: skip
            return sluice_tasks.sync_replica(ends, params["tables"], params["memory_cap_mib"] << 20,
                                             params["allow_lossy"], params["deletes"],
                                             p.dag_id, params, job("sync", params))  # fmt: skip

        synced = sync()
        verify(
            synced["tables"],
            synced["capture"] if p.captures else None,
            synced={"figures": synced["figures"], "seconds": synced["seconds"]},
        )

    return incremental()


_disabled = os.environ.get("SLUICE_DISABLED_DAGS", "").split(",")
for _p in PIPELINES:
    if _p.dag_id not in _disabled:
        globals()[_p.dag_id] = build(_p)
    if f"{_p.dag_id}_incremental" not in _disabled:
        globals()[f"{_p.dag_id}_incremental"] = build_incremental(_p)
