"""Airflow reads its configuration when first imported: point it at a private home first."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sluice-airflow-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
EVENTS = "SLUICE_TEST_OPENLINEAGE_FILE"  # where a test reads OpenLineage events back


def asset_events(env: dict, dag_id: str) -> list[tuple[str, str]]:
    """(asset uri, event extra as JSON text) of every Asset event `dag_id` emitted, read from
    the metadata database of the Airflow home in `env`."""
    db = sqlite3.connect(os.path.join(env["AIRFLOW_HOME"], "airflow.db"))
    try:
        return db.execute(
            "SELECT a.uri, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
            "WHERE e.source_dag_id = ?",
            (dag_id,),
        ).fetchall()
    finally:
        db.close()


def openlineage_file(folder: Path) -> dict[str, str]:
    """The environment that has the provider write every event to one file in `folder`."""
    path = str(folder / "events.jsonl")
    transport = {"type": "file", "log_file_path": path, "append": True}
    return {"AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "sluice-test", EVENTS: path}  # fmt: skip


def completed(env: dict) -> dict[str, list[dict]]:
    """The COMPLETE events of the file transport in `env`, by job (`<dag_id>.<task_id>`)."""
    found: dict[str, list[dict]] = defaultdict(list)
    for line in Path(env[EVENTS]).read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") == "COMPLETE" and "job" in event:
            found[event["job"]["name"]].append(event)
    return found
