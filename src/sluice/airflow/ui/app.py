"""The FastAPI app the Airflow API server serves for the plugin (plugins/sluice_replication.py):
the Replication page and the reports behind it, under `PREFIX`.

Both need a logged-in Airflow user (the UI's own token cookie, or a bearer token), and show
only the DAGs that user may read, as the auth manager says. Reports are read from the same
store the verify tasks write (`$SLUICE_REPORT_URL`), so the API server needs that setting
(and the store's connection, if it names one) too. A report is served by name only: the
DAG must be one the user reads and the file a run's report in its folder. Imported by the
plugin only: it needs Airflow's API server (its annotations are resolved by FastAPI, so the
names they use are imported here, at the top)."""

from __future__ import annotations

import re
from typing import Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response

from sluice.airflow import history
from sluice.airflow.reports import report_root
from sluice.airflow.ui.page import render

PREFIX = "/sluice"
PAGE = "/replication"
_FILE = re.compile(r"^[A-Za-z0-9._-]+\.(html|json)$")


def readable_dags(user: Any, known: list[str]) -> list[str]:
    """Of the DAGs with reports, those `user` may read (the auth manager's answer)."""
    from airflow.api_fastapi.app import get_auth_manager

    allowed = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
    return [d for d in known if d in allowed]


def create_app() -> FastAPI:
    """Built when Airflow loads plugins; no database work."""
    app = FastAPI(title="sluice replication", docs_url=None, redoc_url=None)

    @app.get(PAGE, response_class=HTMLResponse)
    def replication(user: GetUserDep) -> HTMLResponse:
        root = report_root()
        indexes = {d: history.read_index(root, d)
                   for d in readable_dags(user, history.dag_ids(root))}  # fmt: skip
        html = render(indexes, PREFIX, shown_root=root.shown,
                      freshness_limit=history.freshness_limit())  # fmt: skip
        return HTMLResponse(html, headers=_HEADERS)

    @app.get("/reports/{dag_id}/{name}")
    def report(dag_id: str, name: str, user: GetUserDep) -> Response:
        root = report_root()
        # one DAG asked: the auth manager's answer for it, not a listing of the store
        if not _FILE.match(name) or not readable_dags(user, [dag_id]):
            raise HTTPException(404, "no such report")
        try:
            text = root.path(dag_id, name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise HTTPException(404, "no such report") from None
        kind = "text/html" if name.endswith(".html") else "application/json"
        return Response(text, media_type=f"{kind}; charset=utf-8", headers=_HEADERS)

    return app


# reports hold names from databases: no script runs in them, whatever they say
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
}
