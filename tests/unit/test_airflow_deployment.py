"""`sluice airflow`'s deployment settings: the executor, the UI's address, the Celery broker
and its check, and the components started for each executor."""

from __future__ import annotations

import pytest
from tests.ports import free_port

from sluice.airflow.components import components
from sluice.airflow.deployment import (
    Deployment,
    check_broker,
    environment,
    from_environment,
    metadata_url,
)
from sluice.core.errors import ConfigError, ConnectError
from sluice.core.urls import DbUrl

METADATA = "postgresql+psycopg2://postgres@127.0.0.1:5432/airflow"


def test_the_ui_listens_on_loopback_unless_asked() -> None:
    assert from_environment({}).host == "127.0.0.1"
    env = environment(from_environment({}), METADATA)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"
    asked = from_environment({"AIRFLOW__API__HOST": "0.0.0.0", "AIRFLOW__API__PORT": "9090"})
    assert (asked.host, asked.port) == ("0.0.0.0", 9090)
    assert from_environment({"AIRFLOW__API__HOST": "0.0.0.0"}, host="10.1.2.3").host == "10.1.2.3"


def test_local_executor_on_postgresql_metadata() -> None:
    env = environment(Deployment(), METADATA)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == METADATA
    assert env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"] == "60"
    assert not any(k.startswith("AIRFLOW__CELERY__") for k in env)
    assert [c.name for c in components(Deployment())] == [
        "api-server", "scheduler", "dag-processor", "triggerer"]  # fmt: skip


def test_celery_workers_each_named_with_the_metadata_database_as_result_backend() -> None:
    d = from_environment({"SLUICE_CELERY_BROKER_URL": "redis://127.0.0.1:6379/3"},
                         executor="celery", workers=3, concurrency=2)  # fmt: skip
    env = environment(d, METADATA)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + METADATA
    workers = [c for c in components(d) if not c.essential]
    assert [w.env["SLUICE_WORKER_NAME"] for w in workers] == ["worker1", "worker2", "worker3"]
    assert all(w.args[6:8] == ("--concurrency", "2") for w in workers)


@pytest.mark.parametrize("given", [{"executor": "kubernetes"}, {"workers": 0},
                                   {"workers": 2}])  # fmt: skip
def test_bad_deployments_are_refused(given: dict) -> None:
    with pytest.raises(ConfigError):
        from_environment({}, **given)


def test_metadata_url_keeps_a_socket_folder_and_the_password() -> None:
    server = DbUrl.parse("postgresql://postgres:s3cret@/postgres?host=/tmp/pg")
    url = DbUrl.parse(metadata_url(server)).url
    assert (url.drivername, url.database, url.password) == (
        "postgresql+psycopg2",
        "airflow",
        "s3cret",
    )
    assert url.query["host"] == "/tmp/pg"


def test_a_broker_that_does_not_answer_is_named_without_its_password() -> None:
    # redis comes with the airflow extra's Celery provider: absent where only the package and
    # requirements.txt are installed (the Astro image's shape, `make check-astro`)
    pytest.importorskip("redis", reason="redis (the airflow extra's Celery provider) is absent")
    port = free_port()  # a port nothing listens on
    url = f"redis://:hunter2pw@127.0.0.1:{port}/0"
    with pytest.raises(ConnectError) as caught:
        check_broker(url, timeout=1)
    message = str(caught.value)
    assert f"127.0.0.1:{port}/0" in message and "SLUICE_CELERY_BROKER_URL" in message
    assert "hunter2pw" not in message
