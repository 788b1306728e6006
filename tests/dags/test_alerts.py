"""Alerts that reach a person, end to end: the SMTP provider's SmtpNotifier, configured only
through SLUICE_FAILURE_NOTIFIER and an Airflow connection, mails an SMTP sink (aiosmtpd, on a
free local port) from real DAG runs through dag.test().

A replication DAG run whose copy chunk meets a value PostgreSQL refuses (a NUL in a MariaDB
text, by key) sends exactly one mail naming DAG, task and map index, table, key range and
error; the target's connection has a password, which appears nowhere in it. The freshness
DAG mails once, naming the target, when the newest verified run in a DAG's index is older
than SLUICE_FRESHNESS_MAX_MINUTES, and fails; a fresh replica: no mail, success."""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

pytest.importorskip("airflow.providers.smtp")
Controller = pytest.importorskip("aiosmtpd.controller").Controller

from tests.dags import test_dag_run  # noqa: E402
from tests.dags.conftest import ROOT  # noqa: E402
from tests.dags.test_dag_run import connection  # noqa: E402
from tests.ports import free_port  # noqa: E402

from sluice.airflow import history  # noqa: E402
from sluice.airflow.reports import report_root  # noqa: E402

airflow_env = test_dag_run.airflow_env  # the same module-scoped fixture: a migrated home
DAG_ID = "replicate_stackoverflow_to_postgres"  # its source connection pointed at MariaDB
FRESHNESS = "sluice_replica_freshness"
NOTIFIER = "airflow.providers.smtp.notifications.smtp:SmtpNotifier"
BAD_KEY = 700  # the row whose text holds a NUL


class Sink:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.raw.append(envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))  # fmt: skip
        return "250 OK"


@pytest.fixture
def smtp_sink():
    port = free_port()
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def notifying(env: dict, port: int) -> dict:
    """`env` with SmtpNotifier as sluice's notifier, its connection the sink (no TLS, no
    login): the way an operator configures it (docs/airflow.md)."""
    smtp = {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0,
                      "timeout": 10, "from_email": "sluice@example.com"}}  # fmt: skip
    kwargs = {"to": "oncall@example.com", "smtp_conn_id": "smtp_sink"}
    return {**env, "AIRFLOW_CONN_SMTP_SINK": json.dumps(smtp),
            "SLUICE_FAILURE_NOTIFIER": NOTIFIER,
            "SLUICE_FAILURE_NOTIFIER_KWARGS": json.dumps(kwargs)}  # fmt: skip


def run(env: dict, dag_id: str, conf: dict) -> str:
    """One dag.test() run in a child process; its final state."""
    cmd = [sys.executable, str(ROOT / "tests" / "dags" / "run_dag.py"), dag_id, json.dumps(conf)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    last = (out.stdout.strip().splitlines() or [""])[-1]
    assert last.startswith("state="), (out.stdout + out.stderr)[-4000:]
    return last.removeprefix("state=")


def body(message: email.message.EmailMessage) -> str:
    """The mail's text as a person reads it: its HTML part, decoded, tags and escapes gone."""
    part = message.get_body(("html",))
    return html.unescape(re.sub(r"<[^>]+>", "", part.get_content()))


@pytest.fixture
def target_with_password(pg_server):
    """A fresh PostgreSQL database owned by a role of its own, with a password."""
    from tests.conftest import _fresh

    role, secret = f"sluice_alert_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}"
    gen = _fresh(pg_server, "sluice_alert_dst")
    url = next(gen)
    with psycopg.connect(pg_server.render_secret(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
        conn.execute(f"ALTER DATABASE {url.database} OWNER TO {role}")
    u = url.url
    conn_json = json.dumps({"conn_type": "postgres", "host": u.host or u.query.get("host"),
                            "port": u.port, "login": role, "password": secret,
                            "schema": url.database})  # fmt: skip
    try:
        yield conn_json, secret
    finally:
        next(gen, None)
        with psycopg.connect(pg_server.render_secret(), autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_a_failed_copy_chunk_mails_dag_task_table_range_and_error(
    airflow_env, smtp_sink, mysql_db, target_with_password
):
    from tests.conformance.test_mariadb_pg import run_sql

    sink, port = smtp_sink
    conn_json, secret = target_with_password
    run_sql(mysql_db, [
        "CREATE TABLE notes (id int PRIMARY KEY, body text)",
        "INSERT INTO notes WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
        "WHERE n < 900) SELECT n, concat('note ', n) FROM s",
        f"UPDATE notes SET body = concat('bad', char(0), 'value') WHERE id = {BAD_KEY}",
    ])  # fmt: skip
    env = {**notifying(airflow_env, port),
           "AIRFLOW_CONN_STACKOVERFLOW_SOURCE": connection(mysql_db),
           "AIRFLOW_CONN_STACKOVERFLOW_POSTGRES_TARGET": conn_json}  # fmt: skip
    assert run(env, DAG_ID, {"tables": ["notes"], "chunk_rows": 300}) == "failed"

    assert len(sink.messages) == 1, [m["Subject"] for m in sink.messages]
    mail = sink.messages[0]
    assert mail["To"] == "oncall@example.com" and mail["From"] == "sluice@example.com"
    subject = re.fullmatch(rf"sluice: {DAG_ID}\.copy\[(\d+)\] failed: notes "
                           r"\((-inf|\d+), (\+inf|\d+)\]", mail["Subject"])  # fmt: skip
    assert subject, mail["Subject"]
    index, lo, hi = subject.groups()
    assert (lo == "-inf" or int(lo) < BAD_KEY) and (hi == "+inf" or int(hi) >= BAD_KEY)
    lines = body(mail).splitlines()
    assert lines[:2] == [f"DAG: {DAG_ID}", lines[1]] and lines[1].startswith("Run: manual__")
    assert lines[2] == f"Task: copy[{index}], try 1" and lines[3] == "Table: notes"
    assert lines[4].startswith(f"Key range: ({lo}, {hi}] (chunk ")
    assert lines[5] == (f"Error: AirflowFailException: table 'notes', column 'body', key "
                        f"{BAD_KEY}: text holds NUL (U+0000), which postgresql text cannot "
                        f"store (see --nul strip|replace) (1 row(s): keys {BAD_KEY})")  # fmt: skip
    assert secret not in body(mail) and secret.encode() not in sink.raw[0]


def index_with(env: dict, dag_id: str, target: str, started: datetime) -> None:
    """`dag_id`'s run index holding one verified run of `target` that started at `started`,
    written where the verify task writes it."""
    root = report_root(env)
    folder = root.path(dag_id)
    folder.mkdir(parents=True, exist_ok=True)
    report = {"ok": True, "target": target, "started": started.isoformat(), "tables": []}
    history.record_run(root, dag_id, report, f"manual__{started.isoformat()}")


def test_the_freshness_dag_mails_a_stale_replica_once(airflow_env, smtp_sink, tmp_path):
    sink, port = smtp_sink
    env = {**notifying(airflow_env, port), "SLUICE_REPORT_URL": f"file://{tmp_path}/reports",
           "SLUICE_FRESHNESS_MAX_MINUTES": "90"}  # fmt: skip
    started = datetime.now(timezone.utc) - timedelta(hours=3)
    target = "postgresql://sluice@db.example/stackoverflow_replica"
    index_with(env, "replicate_fresh_check", target, started)
    assert run(env, FRESHNESS, {}) == "failed"
    assert len(sink.messages) == 1, [m["Subject"] for m in sink.messages]
    mail = sink.messages[0]
    assert mail["Subject"] == f"sluice: 1 stale replica(s): {target}"
    text = body(mail)
    assert re.search(rf"- {re.escape(target)}: 3 h 0\d min old; DAG replicate_fresh_check, "
                     r"last verified run manual__\S+ \(started ", text), text  # fmt: skip

    index_with(env, "replicate_fresh_check", target, datetime.now(timezone.utc))
    assert run(env, FRESHNESS, {}) == "success"
    assert len(sink.messages) == 1  # fresh: nothing sent
