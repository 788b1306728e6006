"""OpenLineage from the copy, sync and verify tasks, sent by Airflow's OpenLineage provider.

Why this shape: the provider's listener asks each finished task's operator for
`get_openlineage_facets_on_complete` and wraps the answer in its own events (run, job, parent
DAG run, Airflow facets), to whatever transport the deployment configured. A plain `@task`
has no such method, hook lineage (`add_input_asset`) carries no facets, and a custom
extractor would be one more setting every deployment must carry. So these tasks are declared
with `task` below: an `@task` whose operator hands the provider what the task `record`ed
while it ran, built from the plan the task already holds (no extra query).

Datasets are named by each engine's dialect as OpenLineage names them (`lineage_dataset`:
host, port, database, schema, table; never a user or password), with a schema facet (the
columns and their declared types on that side) and the rows read or written. Lineage never
fails a task: a problem building it is logged and the task goes on; with the provider off or
missing nothing is built; nothing here runs when a DAG file is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.sdk.bases.decorator import task_decorator_factory

from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    from sluice.capture.run import CaptureResult
    from sluice.copy.plan import Plan, TablePlan
    from sluice.sync import SyncResult
    from sluice.verify.results import VerifyReport

log = logging.getLogger(__name__)
_recorded: list[OperatorLineage | None] = [None]  # what the running task recorded


def enabled() -> bool:
    """Whether the OpenLineage provider is installed and configured (a transport set and not
    disabled): otherwise lineage is not even built."""
    try:
        from airflow.providers.openlineage import conf
    except ImportError:
        return False
    return not conf.is_disabled()


def record(build: Callable[[], OperatorLineage | None]) -> None:
    """Keep `build()`'s lineage for the provider's completion event of the running task; an
    error in it is logged (masked), never raised: lineage must not fail a copy."""
    try:
        if enabled():
            _recorded[0] = build()
    except Exception as exc:  # noqa: BLE001 - any failure here is the lineage's, not the task's
        log.warning("OpenLineage: no lineage for this task: %s", redact_all(str(exc)))


class LineageOperator(_PythonDecoratedOperator):
    """An `@task` that reports what its callable `record`ed to the provider's listener."""

    _lineage: OperatorLineage | None = None

    def execute(self, context: Any) -> Any:
        _recorded[0] = None  # one process runs its tasks one after another
        try:
            return super().execute(context)
        finally:
            self._lineage, _recorded[0] = _recorded[0], None

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage | None:
        return self._lineage

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage | None:
        return self._lineage  # verify records before it fails on a differing table


def task(python_callable: Callable | None = None, **kwargs: Any) -> Any:
    """`@task`, with the lineage its callable records sent to OpenLineage on completion."""
    return task_decorator_factory(
        python_callable=python_callable,
        decorated_operator_class=LineageOperator,
        **kwargs,
    )


# --- what each task emits ---------------------------------------------------------------------


def copy_lineage(tp: TablePlan, source: DbUrl, target: DbUrl, rows: int) -> OperatorLineage:
    """One chunk: the source table in, the target table out (the live table its staging
    table is published as), `rows` read and written."""
    return _lineage([_input(tp, source, rows)], [_output(tp, target, rows)])


def sync_lineage(result: SyncResult, source: DbUrl, target: DbUrl) -> OperatorLineage:
    """Each synced table: the rows read from the source in, the rows inserted, updated or
    deleted on the replica out."""
    plan = _plan(result.plan)
    inputs = [_input(plan.table(t.table), source, t.read) for t in result.tables]
    outputs = [_output(plan.table(t.table), target, t.moved) for t in result.tables]
    return _lineage(inputs, outputs)


def capture_lineage(result: CaptureResult, source: DbUrl, target: DbUrl) -> OperatorLineage:
    """The change-capture sync: each captured table in (what is read is the source's log,
    not the table: no row count), its replica out with the rows inserted, updated or deleted."""
    plans = {tp.name: tp for tp in result.plans}
    inputs = [_input(plans[name], source, None) for name in result.tables]
    outputs = [_output(plans[name], target, a.moved) for name, a in result.tables.items()]
    return _lineage(inputs, outputs)


def verify_lineage(report: VerifyReport, source: DbUrl, target: DbUrl) -> OperatorLineage:
    """Both sides of each verified table are inputs (verify writes no table), with the rows
    each holds and, on the replica, whether its rows and checksums match the source's."""
    plan, inputs = _plan(report.plan), []
    for tv in report.tables:
        tp = plan.table(tv.name)
        inputs.append(_input(tp, source, tv.source_rows))
        inputs.append(_input(tp, target, tv.target_rows, target_side=True,
                             assertions=_assertions(tv)))  # fmt: skip
    return _lineage(inputs, [])


# --- building blocks ----------------------------------------------------------------------------


def _plan(plan: Plan | None) -> Plan:
    if plan is None:
        raise ValueError("the result carries no plan: no column types to report")
    return plan


def _lineage(inputs: Iterable[Any], outputs: Iterable[Any]) -> OperatorLineage:
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=[d for d in inputs if d is not None],
                           outputs=[d for d in outputs if d is not None])  # fmt: skip


def _side(tp: TablePlan, url: DbUrl, target_side: bool) -> tuple[Any, list[tuple[str, str]]]:
    """The table's (namespace, name) on one side and its columns as declared there."""
    if target_side:
        landed = tp.target
        columns = [(tp.target_column(c.name), c.target_type) for c in tp.columns]
        return get_dialect(url.engine).lineage_dataset(url, landed.schema, landed.name), columns
    columns = [(c.name, c.source_type) for c in tp.columns]
    return get_dialect(url.engine).lineage_dataset(url, tp.table.schema, tp.table.name), columns


def _schema(columns: list[tuple[str, str]]) -> Any:
    from openlineage.client.facet_v2 import schema_dataset

    fields = [schema_dataset.SchemaDatasetFacetFields(name=name, type=kind, ordinal_position=i)
              for i, (name, kind) in enumerate(columns, 1)]  # fmt: skip
    return schema_dataset.SchemaDatasetFacet(fields=fields)


def _input(tp: TablePlan, url: DbUrl, rows: int | None, target_side: bool = False,
           assertions: list | None = None) -> InputDataset | None:  # fmt: skip
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import (
        data_quality_assertions_dataset,
        input_statistics_input_dataset,
    )

    named, columns = _side(tp, url, target_side)
    if named is None:  # an engine OpenLineage names no datasets of (SQLite)
        return None
    facets: dict[str, Any] = {}
    if rows is not None:
        stats = input_statistics_input_dataset.InputStatisticsInputDatasetFacet(rowCount=rows)
        facets["inputStatistics"] = stats
    if assertions:
        facets["dataQualityAssertions"] = (
            data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(assertions)
        )
    return InputDataset(*named, facets={"schema": _schema(columns)}, inputFacets=facets)


def _output(tp: TablePlan, url: DbUrl, rows: int) -> OutputDataset | None:
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset as stats

    named, columns = _side(tp, url, True)
    if named is None:
        return None
    facets = {"outputStatistics": stats.OutputStatisticsOutputDatasetFacet(rowCount=rows)}
    return OutputDataset(*named, facets={"schema": _schema(columns)}, outputFacets=facets)


def _assertions(tv: Any) -> list:
    """What verify found on the replica, as OpenLineage data-quality assertions."""
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dq

    Assertion = dq.Assertion  # noqa: N806 - the facet's class
    found = [
        Assertion(assertion="row_count_equals_source", success=tv.source_rows == tv.target_rows,
                  expected=str(tv.source_rows), actual=str(tv.target_rows)),
        Assertion(assertion="checksums_match_source", success=not tv.mismatches),
    ]  # fmt: skip
    for c in tv.checks:
        found.append(Assertion(assertion=c.check, success=c.passed, column=c.column,
                               severity=c.severity))  # fmt: skip
    return found
