"""The Prometheus sink of `sluice.core.metrics`, and the two ways its figures leave sluice
(docs/monitoring.md): pushed to a Pushgateway (batch work: a copy, a verify, an Airflow
task) every PUSH_INTERVAL seconds and once at the end, or served on /metrics for a scraper
(a long-running process). Both at once work too.

Each run has its own registry, so what a run pushes is that run's figures alone, grouped on
the Pushgateway by job and run. A push that fails is logged (its URL masked) and never
raised: the copy goes on. A URL's user and password are sent as HTTP basic auth, never in
the request line, and are masked wherever the URL is shown."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import (
    basic_auth_handler,
    default_handler,
    push_to_gateway,
    start_http_server,
)

from sluice.core.errors import ConfigError
from sluice.core.metrics import METRICS, PREFIX, Metric, installed
from sluice.core.urls import mask_text, redact_all, remember_secret

log = logging.getLogger(__name__)

PUSH_ENV = "SLUICE_METRICS_PUSH_URL"
PUSH_INTERVAL = 15.0  # seconds between pushes while a run goes on
PUSH_TIMEOUT = 10.0  # seconds one push may take: a gateway that hangs delays the end this long
DEFAULT_HOST = "127.0.0.1"  # /metrics: this machine only, unless a host is given
# a chunk takes from a fraction of a second (a small table) to many minutes (a wide one)
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
           float("inf"))  # fmt: skip
_KINDS = {"counter": Counter, "histogram": Histogram, "gauge": Gauge}


class PrometheusSink:
    """Every metric of METRICS in a registry of its own (one per run): counters add, a
    histogram observes, gauges are set."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._families = {m.name: _family(m, self.registry) for m in METRICS.values()}

    def record(self, metric: Metric, value: float, labels: Mapping[str, str]) -> None:
        family = self._families[metric.name]
        child = family.labels(**labels) if metric.labels else family
        if metric.kind == "counter":
            child.inc(value)
        elif metric.kind == "histogram":
            child.observe(value)
        else:
            child.set(value)


def _family(metric: Metric, registry: CollectorRegistry):
    extra = {"buckets": BUCKETS} if metric.kind == "histogram" else {}
    return _KINDS[metric.kind](PREFIX + metric.name, metric.help, metric.labels,
                               registry=registry, **extra)  # fmt: skip


class Pusher:
    """Pushes `registry` to the Pushgateway at `url` under job `job` and `grouping` (run, and
    in Airflow the task) every `interval` seconds on a daemon thread, and once more on the
    way out. The group is replaced whole each time (PUT): the registry holds the run's
    figures so far, and one group never mixes two runs."""

    def __init__(self, url: str, registry: CollectorRegistry, job: str,
                 grouping: Mapping[str, str], interval: float = PUSH_INTERVAL,
                 timeout: float = PUSH_TIMEOUT) -> None:  # fmt: skip
        self.gateway, self._auth = _without_credentials(url)
        self.shown = mask_text(url)
        self.registry, self.job, self.grouping = registry, job, dict(grouping)
        self.interval, self.timeout = interval, timeout
        self.pushes = self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # the thread's push and the last one never overlap

    def push(self) -> bool:
        """One push; False (and a warning) when it failed: never raised."""
        with self._lock:
            try:
                push_to_gateway(self.gateway, job=self.job, registry=self.registry,
                                grouping_key=self.grouping, timeout=self.timeout,
                                handler=self._handler)  # fmt: skip
            except Exception as exc:
                self.failures += 1
                log.warning("metrics: could not push to the Pushgateway %s: %s", self.shown,
                            redact_all(" ".join(str(exc).split())))  # fmt: skip
                return False
            self.pushes += 1
            return True

    def _handler(self, url, method, timeout, headers, data):
        if self._auth is None:
            return default_handler(url, method, timeout, headers, data)
        return basic_auth_handler(url, method, timeout, headers, data, *self._auth)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.push()

    def __enter__(self) -> Pusher:
        self._thread = threading.Thread(target=self._loop, name="metrics-push", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 1)
        self.push()


def _without_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The gateway's URL without user and password, and those (for basic auth), remembered
    as secrets so that no message shows them."""
    text = url if "://" in url else f"http://{url}"
    parts = urlsplit(text)
    if parts.username is None and parts.password is None:
        return text, None
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    remember_secret(password)
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 address
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), (user, password)


def serve(registry: CollectorRegistry, port: int, host: str = DEFAULT_HOST):
    """/metrics on `host`:`port` (0: a free port) from a daemon thread; the server, to shut
    down. A port taken is a usage error, said before the work starts."""
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigError(f"--metrics-port: cannot serve /metrics on {host}:{port}: "
                          f"{exc.strerror or exc}") from None  # fmt: skip
    log.info("metrics: serving /metrics on http://%s:%d/metrics", host, server.server_port)
    return server


def run_id() -> str:
    """A run's name on the Pushgateway when nobody gave one: when it started, and its process."""
    return f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{os.getpid()}"


@contextlib.contextmanager
def exported(job: str, push: str | None = None, port: int | None = None,
             grouping: Mapping[str, str] | None = None, host: str = DEFAULT_HOST,
             interval: float = PUSH_INTERVAL) -> Iterator[PrometheusSink | None]:  # fmt: skip
    """While the block runs, the engine's figures go to a fresh registry, pushed to `push`
    (grouped by job `job` and `grouping`, by default this run's `run_id`) and served on
    `port`. Neither given: nothing is installed and the block runs as is."""
    if not push and port is None:
        yield None
        return
    sink = PrometheusSink()
    with contextlib.ExitStack() as stack:
        if port is not None:
            server = serve(sink.registry, port, host)
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
        stack.enter_context(installed(sink))
        if push:
            group = dict(grouping) if grouping else {"run": run_id()}
            pusher = Pusher(push, sink.registry, job, group, interval)
            log.info("metrics: pushing to %s as job %s, %s", pusher.shown, job,
                     ", ".join(f"{k} {v}" for k, v in group.items()))  # fmt: skip
            stack.enter_context(pusher)
        yield sink
