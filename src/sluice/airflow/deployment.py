"""How `sluice airflow` (and `make airflow`) deploys Airflow on one machine the way production
runs it: the metadata database on PostgreSQL (a database `airflow` beside the replicated
ones), the executor a setting (LocalExecutor, or CeleryExecutor with Redis as broker and the
metadata database as result backend), the UI on 127.0.0.1 unless asked otherwise, and
lost-worker detection set to a minute instead of Airflow's five (ADR 0025).

Only Airflow settings as environment variables live here: every component and every worker
gets the same ones, so a worker on another host is configured by the same mapping.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from sluice.core.errors import ConfigError, ConnectError
from sluice.core.urls import DbUrl, mask_text

METADATA_DB = "airflow"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
# Seconds without a heartbeat before the scheduler declares a running task lost and fails
# its try (retried after the DAG's retry_delay): Airflow's default is 300.
HEARTBEAT_TIMEOUT = 60


@dataclass(frozen=True)
class Deployment:
    """What `sluice airflow` starts: executor, Celery workers and their slots, where the UI
    listens, the broker, and how soon a silent task counts as lost."""

    executor: str = "local"
    workers: int = 1  # Celery worker processes (CeleryExecutor only)
    concurrency: int = 4  # task slots per Celery worker
    host: str = "127.0.0.1"
    port: int = 8080
    broker_url: str = DEFAULT_BROKER
    queue: str = "default"
    heartbeat_timeout: int = HEARTBEAT_TIMEOUT

    def validate(self) -> Deployment:
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor {self.executor!r}: choose one of {', '.join(EXECUTORS)}")
        if self.workers < 1 or self.concurrency < 1:
            raise ConfigError("workers and concurrency must be at least 1")
        if self.executor == "local" and self.workers != 1:
            raise ConfigError("WORKERS needs EXECUTOR=celery: LocalExecutor runs tasks in the "
                              "scheduler's own processes")  # fmt: skip
        return self

    @property
    def celery(self) -> bool:
        return self.executor == "celery"

    @property
    def ui_url(self) -> str:
        shown = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host
        return f"http://{shown}:{self.port}"


def from_environment(environ: Mapping[str, str] = os.environ, **given) -> Deployment:
    """A Deployment from explicit values, else Airflow's and sluice's own variables
    (AIRFLOW__API__HOST, AIRFLOW__API__PORT, SLUICE_CELERY_BROKER_URL), else the defaults."""
    values = {k: v for k, v in given.items() if v is not None}
    values.setdefault("host", environ.get("AIRFLOW__API__HOST") or "127.0.0.1")
    port = environ.get("AIRFLOW__API__PORT")
    if port and "port" not in values:
        values["port"] = int(port)
    values.setdefault("broker_url", environ.get("SLUICE_CELERY_BROKER_URL") or DEFAULT_BROKER)
    return Deployment(**values).validate()


def metadata_url(server: DbUrl, database: str = METADATA_DB) -> str:
    """The SQLAlchemy URL of Airflow's metadata database on `server` (psycopg2, which the
    PostgreSQL provider brings; Airflow derives its asyncpg twin from it)."""
    url = server.with_database(database).url.set(drivername="postgresql+psycopg2")
    return url.render_as_string(hide_password=False)


def ensure_database(server: DbUrl, database: str = METADATA_DB) -> None:
    """Create `database` on `server` when it is missing (Airflow migrates it afterwards)."""
    import psycopg
    from psycopg import sql

    dsn = server.with_database("postgres").url.set(drivername="postgresql")
    try:
        with psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True) as c:
            found = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if found.fetchone() is None:
                c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except psycopg.OperationalError as exc:
        message = f"metadata database on {server.host}: {server.redact(str(exc))}"
        raise ConnectError(message) from None


def environment(d: Deployment, metadata: str) -> dict[str, str]:
    """The Airflow settings of deployment `d` over metadata database URL `metadata`."""
    env = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        # a few connections per component: scheduler, API server, DAG processor, triggerer
        # and each Celery worker share one server with the replicated databases
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "5",
        "AIRFLOW__CORE__EXECUTOR": EXECUTORS[d.executor],
        "AIRFLOW__API__HOST": d.host,
        "AIRFLOW__API__PORT": str(d.port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{d.port}"
        if d.host in ("127.0.0.1", "0.0.0.0", "::")
        else f"http://{d.host}:{d.port}",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(d.heartbeat_timeout),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "10",
    }
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = env["AIRFLOW__API__BASE_URL"] + "/execution/"
    if d.celery:
        env.update({
            "AIRFLOW__CELERY__BROKER_URL": d.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(d.concurrency),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": d.queue,
            # a task's hostname is its worker's name: several workers may share one machine
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "sluice.airflow.deployment.worker_hostname",
        })  # fmt: skip
    return env


def worker_hostname() -> str:
    """`<worker name>@<host>` inside a Celery worker `sluice airflow` started (it sets
    SLUICE_WORKER_NAME), else the host's name as Airflow's default gives it."""
    name = os.environ.get("SLUICE_WORKER_NAME")
    host = socket.getfqdn()
    return f"{name}@{host}" if name else host


def check_broker(url: str, timeout: float = 3.0) -> None:
    """Raise a ConnectError naming `url` (password masked) unless a Redis server answers PING
    there: Celery would otherwise retry its connection forever with nothing queued."""
    import redis

    shown = mask_text(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        client.ping()
    except ValueError as exc:
        raise ConfigError(f"Celery broker {shown!r} is not a Redis URL: {exc}") from None
    except redis.RedisError as exc:
        raise ConnectError(
            f"no Redis answers at the Celery broker {shown} ({type(exc).__name__}); start one "
            "there or set SLUICE_CELERY_BROKER_URL to where one runs"
        ) from None
