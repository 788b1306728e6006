"""Task callables for the replication DAGs: each opens its connections inside the task,
calls one library stage, and returns a small JSON-able summary. XComs carry plan data and
these summaries only, never rows and never secrets (plans hold masked URLs)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from sluice.airflow import history
from sluice.airflow.connections import url_for
from sluice.airflow.metrics import sent_to_airflow
from sluice.airflow.push import pushed
from sluice.airflow.reports import report_root, write_reports
from sluice.copy import (
    DEFAULT_MEMORY_CAP,
    CopyOptions,
    NotCarriedError,
    check_lossy,
    check_zero_dates,
    refuse_not_carried,
)
from sluice.copy.buffer import ByteBudget
from sluice.copy.filters import parse_columns
from sluice.copy.finish import finish
from sluice.copy.memory import deferred_collections, tune_allocator
from sluice.copy.objects import recreate_objects
from sluice.copy.plan import DEFAULT_CHUNK_BYTES, Chunk, Plan, build_plan
from sluice.copy.publish import prepare, publish_table
from sluice.copy.transfer import TransferOptions, copy_chunk
from sluice.core import metrics
from sluice.core.errors import ConfigError, ConnectError, DataError, TerminalError
from sluice.core.hostile import NulPolicy
from sluice.core.interrupt import on_signals
from sluice.core.schema import qualified_key
from sluice.core.urls import redact_all
from sluice.sync import SyncOptions, sync_database
from sluice.verify import VerifyOptions, verify_database
from sluice.verify.report import summary_lines

log = logging.getLogger(__name__)
T = TypeVar("T")  # an options dataclass (`options_for`)


@dataclass(frozen=True)
class Endpoints:
    """Connection ids of one DAG; `target_database` overrides the target connection's schema."""

    source: str
    target: str
    target_database: str | None = None

    def source_url(self):
        return url_for(self.source)

    def target_url(self):
        return url_for(self.target, self.target_database)


# DAG params carrying the CLI's selection and value options (`value_options`), with defaults
VALUE_PARAMS = {
    "exclude_tables": [], "skip_refused": False, "carry_as_text": False, "allow_lossy": False,
    "zero_dates": "error", "nul": "error", "enums": "varchar", "identifiers": "preserve",
    "schemas": [], "exclude_schemas": [], "schema_map": {},
    "where": {}, "exclude_columns": [], "mask": {}, "fail_on_not_carried": False,
    "collations": "source",
}  # fmt: skip


def value_options(params: Mapping[str, Any] | None) -> CopyOptions:
    """A DAG run's params as the options the CLI's flags give plan, copy, verify and sync
    (`--exclude-tables`, `--skip-refused`, `--carry-as-text`, `--allow-lossy`, `--zero-dates`,
    `--nul`, `--enums`, `--identifiers`, `--schemas`, `--exclude-schemas`, `--schema-map`,
    `--where`, `--exclude-columns`, `--mask`, `--fail-on-not-carried`, `--collations`),
    validated; a param a DAG does not declare takes the CLI's default. The DAG file reads every
    CLI option through `sluice.cli.dagparams.job_options` instead and hands the tasks its
    `options`: this is for callers without the CLI."""
    given = {**VALUE_PARAMS, **{k: v for k, v in (params or {}).items() if k in VALUE_PARAMS}}
    options = CopyOptions(
        exclude=tuple(given["exclude_tables"] or ()), skip_refused=bool(given["skip_refused"]),
        carry_as_text=bool(given["carry_as_text"]), allow_lossy=bool(given["allow_lossy"]),
        zero_dates=given["zero_dates"], nul=given["nul"], enums=given["enums"],
        schemas=tuple(given["schemas"] or ()),
        exclude_schemas=tuple(given["exclude_schemas"] or ()),
        schema_map=tuple((str(k), str(v or "")) for k, v in (given["schema_map"] or {}).items()),
        identifiers=given["identifiers"],
        where=tuple((str(k), str(v)) for k, v in (given["where"] or {}).items()),
        exclude_columns=parse_columns(given["exclude_columns"]),
        mask=tuple((str(k), str(v)) for k, v in (given["mask"] or {}).items()),
        fail_on_not_carried=bool(given["fail_on_not_carried"]),
        collations=given["collations"],
    )  # fmt: skip
    options.validate()
    return options


def options_for(kind: type[T], params: Mapping[str, Any] | None, **given: Any) -> T:
    """`value_options(params)` as a sync's or a verify's options (`kind`): every value a
    param set that `kind` has (lists of fields made by hand here once dropped `--collations`
    from the sync), then `given`."""
    v, default = value_options(params), CopyOptions()
    taken = {f.name: getattr(v, f.name) for f in fields(kind)  # type: ignore[arg-type]
             if hasattr(v, f.name) and getattr(v, f.name) != getattr(default, f.name)}  # fmt: skip
    return kind(**{**taken, **given})


def plan(
    ends: Endpoints,
    tables: list[str] | None,
    chunk_rows: int,
    allow_lossy: bool,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    params: Mapping[str, Any] | None = None,
    options: CopyOptions | None = None,
) -> dict:
    """The plan, with the run's selection (`options`, else `params` as `value_options` reads
    them); skipped tables are named in the log and the plan's `skipped`."""
    options = replace(options or value_options(params), allow_lossy=allow_lossy)
    source, target = ends.source_url(), ends.target_url()
    check_zero_dates(source, target, options.zero_dates)
    p = build_plan(
        source, target, tables=tables or None,
        chunk_rows=chunk_rows, chunk_bytes=chunk_bytes, selection=options.selection,
    )  # fmt: skip
    check_lossy(p, allow_lossy)
    for item in p.not_carried:  # what the copy does not create, each with its source DDL
        log.warning("not carried: %s %s: %s\n%s", item.kind, item.key, item.reason, item.ddl)
    try:
        refuse_not_carried(p, options.fail_on_not_carried, "the plan task's log lists each "
                           "with its reason and source DDL")  # fmt: skip
    except NotCarriedError as exc:  # another try would plan the same: no retries
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from None
    for s in p.skipped:
        log.warning("skipped %s: %s", s.table, s.reason)
    log.info("plan: %d tables, %d chunks, order %s", len(p.tables), len(p.chunks),
             ", ".join(t.name for t in p.tables))  # fmt: skip
    return p.to_dict()


def chunk_list(plan_data: dict) -> list[dict]:
    """The mapped copy tasks' inputs: one small dict per key range."""
    return [
        {"table": c.table, "index": c.index, "lo": c.lo, "hi": c.hi}
        for c in Plan.from_dict(plan_data).chunks
    ]


def table_list(plan_data: dict) -> list[str]:
    """The planned tables' qualified keys (`sales.orders`; a bare name in the default schema):
    what publish is mapped over and verify is given."""
    return [qualified_key(t["table"]["schema"], t["table"]["name"]) for t in plan_data["tables"]]


def prepare_target(ends: Endpoints, plan_data: dict) -> None:
    prepare(Plan.from_dict(plan_data), ends.target_url())


@pushed
@deferred_collections()
@sent_to_airflow()
def copy_one_chunk(ends: Endpoints, plan_data: dict, chunk: dict, memory_cap: int,
                   params: Mapping[str, Any] | None = None,
                   options: CopyOptions | None = None) -> dict:  # fmt: skip
    """One key range, idempotent: a retried task deletes what its earlier try left. `params`:
    the run's value options (--nul, --zero-dates). A value refused here fails the task at
    once, without retries (no table is skipped mid-copy under Airflow: each chunk is a task
    of its own)."""
    values = options or value_options(params)
    tune_allocator()
    p = Plan.from_dict(plan_data)
    c = Chunk(**chunk)
    tp = p.table(c.table)
    cap = memory_cap or DEFAULT_MEMORY_CAP
    source, target = ends.source_url(), ends.target_url()
    # Airflow stops a task with SIGTERM (its handler only calls on_kill): the chunk stops at
    # its next batch, its transaction rolled back, and the task fails with `Interrupted`
    started = time.time()
    with on_signals(chain=True) as cancel:
        transfer, channel_bytes = TransferOptions.for_budget(
            cap, 1, not tp.passthrough, cancel=cancel,
            nul=NulPolicy(values.nul, values.nul_replacement, values.zero_dates),
        )  # fmt: skip
        try:
            budget = ByteBudget(channel_bytes, metrics.run_labels(source, target))
            result = copy_chunk(tp, c, source, target, budget, transfer)
        except DataError as exc:  # another try would read the same value: no retries
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(redact_all(str(exc))) from None
    log.info("%s: %s rows, %.1f MB in %.1fs (%d tries)", c.label, f"{result.rows:,}",
             result.bytes / 1e6, result.seconds, result.attempts)  # fmt: skip
    from sluice.airflow import lineage  # imports Airflow: only inside a task

    lineage.record(lambda: lineage.copy_lineage(tp, source, target, result.rows))
    return {
        "table": c.table,
        "index": c.index,
        "rows": result.rows,
        "bytes": result.bytes,
        "started": round(started, 3),
        "ended": round(time.time(), 3),
    }  # the page's rows/s


@pushed
@sent_to_airflow()
def publish(ends: Endpoints, plan_data: dict, table: str) -> dict:
    """SIGTERM before the swap leaves the live table as it was; a swap begun completes, with
    the table's identity aligned and its foreign keys made (copy.completion): a table this
    task published is complete even if the DAG's finish task never runs."""
    p, target = Plan.from_dict(plan_data), ends.target_url()
    with on_signals(chain=True) as cancel:
        result = publish_table(p, table, target, cancel=cancel)
    done = result.completion
    return {"table": result.table, "rows": result.rows, "finished": result.finished,
            "keys_not_created": dict(done.not_created) if done else {}}  # fmt: skip


def finish_target(ends: Endpoints, plan_data: dict) -> dict:
    """Identities and foreign keys, then the source's views and sequences (same engine). The
    DAG runs it even when a publish failed (trigger rule all_done): it finishes whatever is in
    the target, and is safe on any state of it (a key present and valid is left alone)."""
    plan, target = Plan.from_dict(plan_data), ends.target_url()
    result = finish(plan, target)
    objects = recreate_objects(plan, target)
    for name, why in result.outside_missing.items():
        log.warning("foreign key %s to a table outside the copy not created: %s", name, why)
    return {"identities": result.identities, "orphans": result.orphans,
            "outside_foreign_keys": result.outside, **objects.to_dict()}  # fmt: skip


@pushed
@sent_to_airflow()
def verify_replica(
    ends: Endpoints,
    tables: list[str],
    dag_id: str,
    run_id: str,
    params: Mapping[str, Any] | None = None,
    options: VerifyOptions | None = None,
    *,
    run_started: Any = None,
    copied: list[dict] | None = None,
    synced: dict | None = None,
) -> dict:
    """Checksums per key range and data-quality checks of `tables` (what the full DAG copied
    or its incremental twin synced); the JSON and HTML reports go to `<report root>/<dag_id>/`
    (the run's, then `latest.*`; `sluice.airflow.reports`: $SLUICE_REPORT_URL, storage every
    worker reaches), a readable summary to the log. The run's own figures (`run_started`,
    and the copy tasks' results or the sync task's) go into the report and the DAG's run
    index (`sluice.airflow.history`): what the Replication page shows.

    Returns the headline figures per table (small: they go to XCom and to the table Assets;
    "report" is where the run's JSON is, without credentials); raises after writing the
    reports when any range differs or an error-severity check fails."""
    try:  # a bad report URL is found before the work, not after it
        root = report_root()
    except ConfigError as exc:  # another try would read the same setting
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from None
    if options is not None:  # threads: a task's process may be an unguarded script
        options = replace(options, tables=list(tables), processes=False)
    else:
        # the selection and value options the copy had: carried columns compared as the
        # source's text, masked ones by their masks
        options = options_for(VerifyOptions, params, tables=list(tables))
    source, target = ends.source_url(), ends.target_url()
    with on_signals(chain=True) as cancel:  # SIGTERM: Interrupted, no report written
        report = verify_database(source, target, options, cancel)
    from sluice.airflow import lineage

    lineage.record(lambda: lineage.verify_lineage(report, source, target))
    data = report.to_dict()
    if synced is not None:
        moved = history.synced_tables(synced.get("figures") or {}, synced.get("seconds") or 0)
    else:
        moved = history.copied_tables(copied or [])
    data["run"] = history.run_section(
        dag_id,
        run_id,
        "sync" if synced is not None else "copy",
        run_started,
        dt.datetime.now(dt.timezone.utc),
        moved,
    )
    written = write_reports(data, dag_id, run_id, root)
    history.record_run(root, dag_id, data, run_id)
    for line in summary_lines(data):
        log.info("%s", line)
    log.info("reports: %s", ", ".join(written))
    headline = {"ok": report.ok, "report": written[0], "tables": {}}
    for t in report.tables:
        failing = [c for c in t.checks if not c.passed]
        headline["tables"][t.name] = {
            "rows": t.target_rows,
            "target_table": t.target or t.name,  # its name on the target (--identifiers)
            "source_rows": t.source_rows,
            "verified": t.ok,
            "method": t.method,
            "ranges": len(t.ranges),
            "matching_ranges": len(t.ranges) - len(t.mismatches),
            "checks_passed": len(t.checks) - len(failing),
            "checks_failed": len(failing),
        }
    if not report.ok:
        bad = [t.name for t in report.tables if not t.ok]
        message = f"verification failed for {', '.join(bad)}; report {written[0]}"
        raise DataError(bad[0], None, None, message)
    return headline


@pushed
@sent_to_airflow()
def sync_replica(
    ends: Endpoints,
    tables: list[str] | None,
    memory_cap: int,
    allow_lossy: bool,
    deletes: bool,
    full_dag: str,
    params: Mapping[str, Any] | None = None,
    options: SyncOptions | None = None,
) -> dict:
    """The incremental twin's step: `sync_database` over the same connections as the full
    DAG, a log line per table, and only counts and watermarks back (XCom: no rows, no URLs).

    What another try cannot fix (a missing replica, a bad watermark, a narrowed column, a
    lossy type) fails the task at once, naming the full DAG that rebuilds the replica;
    anything else (a lost connection, a server restarting) is left to the task's retries."""
    if options is not None:
        options = replace(
            options,
            tables=tables or None,
            deletes=deletes,
            memory_cap=memory_cap or DEFAULT_MEMORY_CAP,
            allow_lossy=allow_lossy,
        )
    else:
        options = options_for(SyncOptions, params, tables=tables or None, deletes=deletes,
                              memory_cap=memory_cap or DEFAULT_MEMORY_CAP,
                              allow_lossy=allow_lossy)  # fmt: skip
    source, target = ends.source_url(), ends.target_url()
    with failing_at_once("sluice copy", f" (in Airflow: run the full DAG {full_dag!r} first)"):
        result = sync_database(source, target, options)
    from sluice.airflow import lineage

    lineage.record(lambda: lineage.sync_lineage(result, source, target))
    figures = {}
    for t in result.tables:
        figures[t.table] = {
            "watermark": t.watermark, "read": t.read, "inserted": t.inserted,
            "updated": t.updated, "deleted": t.deleted,
            "before": _plain(t.before), "after": _plain(t.after),
            "added_columns": list(t.drift.added), "widened_columns": list(t.drift.widened),
        }  # fmt: skip
        log.info("%s: read %s, inserted %s, updated %s, deleted %s; %s %s -> %s", t.table,
                 f"{t.read:,}", f"{t.inserted:,}", f"{t.updated:,}", f"{t.deleted:,}",
                 t.watermark, figures[t.table]["before"], figures[t.table]["after"])  # fmt: skip
    log.info("sync: %s rows moved in %.1fs", f"{result.moved:,}", result.seconds)
    return {"tables": list(figures), "figures": figures, "moved": result.moved,
            "seconds": round(result.seconds, 3)}  # fmt: skip


@contextlib.contextmanager
def failing_at_once(needle: str, advice: str) -> Iterator[None]:
    """An error another try cannot fix (a missing replica, a bad setting, a narrowed column)
    fails the task at once, masked, with `advice` added when its text names `needle`; a
    lost connection is left to the task's retries (the server may be back)."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except ConnectError:
        raise
    except (ConfigError, TerminalError, DataError) as exc:
        message = redact_all(str(exc))
        if needle in message:
            message += advice
        raise AirflowFailException(message) from None


def _plain(value: Any) -> int | str | None:
    """A watermark value as JSON: integers stay numbers, times ISO text, rowversions hex."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    return str(value)
