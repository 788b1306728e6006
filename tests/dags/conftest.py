"""Airflow reads its configuration when first imported: point it at a private home first."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sluice-airflow-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")


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
