"""Alerts that reach a person, through the Airflow notifier `$SLUICE_FAILURE_NOTIFIER` names
(`package.module:Class`, e.g. the SMTP provider's SmtpNotifier, built with the JSON keyword
arguments in `$SLUICE_FAILURE_NOTIFIER_KWARGS`); unset, the alerts go to the task log only.

Two alerts. A failed task (`on_task_failure`, every replication task's failure callback):
its DAG, run, task and map index, what it worked on (a copy chunk's table and key range, a
publish's table, verify's tables) and its error. A task callback, not a DAG one: Airflow 3
hands a DAG's failure callback the last failed task instance without its exception or its
mapped arguments (and a notifier there fails under dag.test(), apache/airflow#64649); a
task's callback runs in the task's process after its last try, with both. Stale replicas
(`check_freshness`, the `sluice_replica_freshness` DAG): targets whose newest verified run
started longer ago than `$SLUICE_FRESHNESS_MAX_MINUTES`.

Sluice composes the text; the notifier only sends it. Its templates see it as `sluice_alert`
(`subject`, `text`, `html`), and a `subject`, `html_content` or `text` argument the kwargs
leave out is given the matching one, so SmtpNotifier needs only `to` (and `from_email`). The
text is inserted into the templates, never rendered itself, and passes through `redact_all`:
no password a task met reaches a message.
"""

from __future__ import annotations

import html
import inspect
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

from sluice.airflow import history
from sluice.airflow.reports import report_root
from sluice.core.errors import ConfigError
from sluice.core.urls import redact_all

log = logging.getLogger("sluice.airflow")

NOTIFIER_VARIABLE = "SLUICE_FAILURE_NOTIFIER"
KWARGS_VARIABLE = "SLUICE_FAILURE_NOTIFIER_KWARGS"
# a notifier's own argument -> the template given to it when the kwargs leave it out
TEMPLATES = {
    "subject": "{{ sluice_alert.subject }}",  # SmtpNotifier
    "html_content": "{{ sluice_alert.html }}",  # SmtpNotifier
    "text": "{{ sluice_alert.text }}",  # SlackNotifier, SlackWebhookNotifier
}


@dataclass(frozen=True)
class Alert:
    subject: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def html(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"

    def fields(self) -> dict[str, str]:
        return {"subject": self.subject, "text": self.text, "html": self.html}


def _worked_on(task: Any) -> tuple[str, list[str]]:
    """What the failed task was given (a copy chunk, a publish's table, verify's tables: a
    mapped task's own arguments, as its process resolved them), short and as lines."""
    given = getattr(task, "op_kwargs", None)
    if not isinstance(given, Mapping):
        return "", []
    chunk = given.get("chunk")
    if isinstance(chunk, Mapping) and "table" in chunk:
        lo = "-inf" if chunk.get("lo") is None else chunk["lo"]
        hi = "+inf" if chunk.get("hi") is None else chunk["hi"]
        keys = f"({lo}, {hi}]"
        return f"{chunk['table']} {keys}", [
            f"Table: {chunk['table']}",
            f"Key range: {keys} (chunk {chunk.get('index', '?')} of the table)",
        ]
    if isinstance(given.get("table"), str):
        return given["table"], [f"Table: {given['table']}"]
    names = given.get("table_names")
    if isinstance(names, Sequence) and not isinstance(names, str):
        listed = ", ".join(map(str, names))
        return listed, [f"Tables: {listed}"]
    return "", []


def failure_alert(context: Mapping[str, Any]) -> Alert:
    """The failed task's alert, from its callback's context."""
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    index = getattr(ti, "map_index", -1)
    task_name = f"{task_id}[{index}]" if isinstance(index, int) and index >= 0 else task_id
    tries = getattr(ti, "try_number", None)
    error = f"{type(exc).__name__}: {' '.join(str(exc).split())}" if exc else "none recorded"
    short, worked = _worked_on(context.get("task") or getattr(ti, "task", None))
    lines = [
        f"DAG: {dag_id}",
        f"Run: {getattr(ti, 'run_id', None) or context.get('run_id', '?')}",
        f"Task: {task_name}" + (f", try {tries}" if tries else ""),
        *worked,
        f"Error: {error}",
    ]
    if getattr(ti, "log_url", None):
        lines.append(f"Log: {ti.log_url}")
    subject = f"sluice: {dag_id}.{task_name} failed" + (f": {short}" if short else "")
    return Alert(redact_all(subject), tuple(redact_all(line) for line in lines))


def notifier(environ: Mapping[str, str] = os.environ) -> Any | None:
    """A new notifier as the environment names it (each alert gets its own: rendering its
    templates changes it); None when none is named."""
    spec = (environ.get(NOTIFIER_VARIABLE) or "").strip()
    if not spec:
        return None
    module, _, name = spec.partition(":")
    try:
        cls = getattr(import_module(module), name)
        kwargs = json.loads(environ.get(KWARGS_VARIABLE) or "{}")
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{NOTIFIER_VARIABLE}={spec!r} with {KWARGS_VARIABLE}: {exc} "
                          "(give package.module:Class and a JSON object)") from None  # fmt: skip
    try:
        accepted = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        accepted = {}
    for field, template in TEMPLATES.items():
        if field in accepted and field not in kwargs:
            kwargs[field] = template
    return cls(**kwargs)


def send(alert: Alert, context: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] = os.environ) -> bool:  # fmt: skip
    """Hand `alert` to the configured notifier with the Airflow `context`; whether one was."""
    sender = notifier(environ)
    if sender is None:
        return False
    sender({**(context or {}), "sluice_alert": alert.fields()})
    return True


def on_task_failure(context: Mapping[str, Any]) -> None:
    """Every replication task's failure callback: the alert to the log and the notifier.
    A task that sent its own alert before failing (the freshness check) is not alerted again."""
    if getattr(context.get("exception"), "sluice_alerted", False):
        return
    alert = failure_alert(context)
    log.error("%s\n%s", alert.subject, alert.text)
    send(alert, context)


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} days {hours % 24} h"


def stale_alert(stale: Sequence[history.Freshness], limit: float) -> Alert:
    """One alert naming each stale target, its DAG, last verified run and age."""
    lines = [f"Replicas whose newest verified run started more than {_age(limit)} ago "
             f"({history.FRESHNESS_VARIABLE}):"]  # fmt: skip
    for f in stale:
        if f.as_of is None:
            lines.append(f"- {f.target}: no verified run in any DAG's index")
        else:
            lines.append(f"- {f.target}: {_age(f.age_seconds or 0)} old; DAG {f.dag_id}, last "
                         f"verified run {f.run_id} (started {f.as_of.isoformat()})")  # fmt: skip
    subject = f"sluice: {len(stale)} stale replica(s): {', '.join(f.target for f in stale)}"
    return Alert(redact_all(subject), tuple(redact_all(line) for line in lines))


def check_freshness(context: Mapping[str, Any] | None = None,
                    environ: Mapping[str, str] = os.environ,
                    now: datetime | None = None) -> dict:  # fmt: skip
    """The freshness DAG's task: every target in the run indexes under the report root whose
    newest verified run is older than the limit gets named in one alert, then the task fails
    (Airflow's own state shows the stale replica, and each check alerts again until a run
    verifies it). No limit set: nothing is checked, and the log says so."""
    limit = history.freshness_limit(environ)
    if limit is None:
        log.info("%s is not set: no replica's freshness checked", history.FRESHNESS_VARIABLE)
        return {"limit_seconds": None, "targets": 0, "stale": []}
    root = report_root(environ)
    indexes = {d: history.read_index(root, d) for d in history.dag_ids(root)}
    found = history.freshness(indexes, now)
    stale = [f for f in found if f.age_seconds is None or f.age_seconds > limit]
    for f in found:
        log.info("%s: newest verified run %s (%s), age %s", redact_all(f.target), f.run_id,
                 f.dag_id, "-" if f.age_seconds is None else _age(f.age_seconds))  # fmt: skip
    if not stale:
        return {"limit_seconds": limit, "targets": len(found), "stale": []}
    alert = stale_alert(stale, limit)
    log.error("%s\n%s", alert.subject, alert.text)
    sent = send(alert, context, environ)
    from airflow.sdk.exceptions import AirflowFailException

    exc = AirflowFailException(alert.subject + ("" if sent else " (no notifier configured)"))
    exc.sluice_alerted = True  # type: ignore[attr-defined]
    raise exc
