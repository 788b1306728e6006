"""Sluice's figures through Airflow's own metrics interface (docs/monitoring.md): a deployment
that already sends Airflow's metrics to StatsD, DogStatsD (Datadog) or OpenTelemetry gets
sluice's with no extra wiring.

Why this shape: inside a task, Airflow's Task SDK `stats` module is set up from the [metrics]
configuration (`statsd_datadog_enabled`, then `statsd_on`, then `otel_on`), so sending through
it reaches whichever backend the deployment chose, with its prefix, allow and block lists.
Each task function runs inside `sent_to_airflow`, which installs `AirflowSink` into
`sluice.core.metrics` for the call: whatever the engine records meanwhile is sent.

Names: `sluice.` and the metric's name, counters without Prometheus's `_total`
(`sluice.rows_copied`), the chunk histogram as a timer in milliseconds
(`sluice.chunk_duration`), gauges as named (`sluice.verify_mismatched_ranges`); Airflow's
`statsd_prefix` goes in front (`airflow.sluice.rows_copied`). The labels go as tags where the
backend carries tags (DogStatsD, OpenTelemetry, StatsD with `statsd_influxdb_enabled`). Plain
StatsD drops tags, so there the label values are put in the name, in the metric's label order,
one segment each (`sluice.rows_copied.postgresql.postgresql.shop.public.orders`; an empty value
as `_`, a dot as `__`, any other character outside `[A-Za-z0-9_-]` as `_`). Sending never fails
a task: `sluice.core.metrics` logs a sink's error and goes on."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sluice.core import metrics
from sluice.core.metrics import Metric

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
NAMESPACE = "sluice."
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def stat_name(metric: Metric) -> str:
    """The name sent with tags: `sluice.rows_copied`, `sluice.chunk_duration`, ..."""
    name = metric.name
    if metric.kind == "counter":
        name = name.removesuffix("_total")
    elif metric.kind == "histogram":
        name = name.removesuffix("_seconds")  # sent in milliseconds, as StatsD timers are
    return NAMESPACE + name


def flat_name(metric: Metric, labels: Mapping[str, str]) -> str:
    """The name for plain StatsD, which drops tags: the label values as name segments."""
    parts = [stat_name(metric)]
    for key in metric.labels:
        value = str(labels.get(key, "")).replace(".", "__")
        parts.append(_UNSAFE.sub("_", value) or "_")
    return ".".join(parts)


class AirflowSink:
    """Sends each recorded figure through Airflow's Task SDK `stats`: counters as `incr`, the
    histogram as `timing`, gauges as `gauge`; `flat` puts the labels in the name."""

    def __init__(self, flat: bool) -> None:
        from airflow.sdk.observability import stats  # imports Airflow: only inside a task

        self.stats = stats
        self.flat = flat

    def record(self, metric: Metric, value: float, labels: Mapping[str, str]) -> None:
        if self.flat:
            name, tags = flat_name(metric, labels), None
        else:
            name, tags = stat_name(metric), {k: v for k, v in labels.items() if v}
        if metric.kind == "counter":
            count = int(value) if float(value).is_integer() else value
            self.stats.incr(name, count, tags=tags)
        elif metric.kind == "histogram":
            self.stats.timing(name, dt.timedelta(seconds=value), tags=tags)
        else:
            self.stats.gauge(name, value, tags=tags)


def backend() -> str:
    """Which backend Airflow's [metrics] configuration chose, in Airflow's own order:
    "datadog", "statsd", "otel", or "" (metrics off)."""
    from airflow.sdk.configuration import conf

    for option, name in (("statsd_datadog_enabled", "datadog"), ("statsd_on", "statsd"),
                         ("otel_on", "otel")):  # fmt: skip
        if conf.getboolean("metrics", option, fallback=False):
            return name
    return ""


@contextmanager
def sent_to_airflow() -> Iterator[None]:
    """Sends what sluice records in the block through Airflow's metrics, when the deployment
    has them on (nothing is installed otherwise). Used as a decorator on the task functions."""
    try:
        chosen = backend()
        sink = None
        if chosen:
            from airflow.sdk.configuration import conf

            tagless = chosen == "statsd" and not conf.getboolean(
                "metrics", "statsd_influxdb_enabled", fallback=False
            )
            sink = AirflowSink(flat=tagless)
    except Exception as exc:  # noqa: BLE001 - monitoring never fails the work it watches
        log.warning("metrics: not sent through Airflow's metrics: %s", exc)
        sink = None
    if sink is None:
        yield
        return
    with metrics.installed(sink):
        yield
