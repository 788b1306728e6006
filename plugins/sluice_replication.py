"""The sluice plugin for the Airflow 3 UI: a "Replication" page (runs, figures, charts,
freshness; reports one click away) and a "Verification report" link on verify tasks. The
code lives in the sluice package (sluice.airflow.ui); this file only registers it."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from sluice.airflow.ui.app import PAGE, PREFIX, create_app
from sluice.airflow.ui.links import VerificationReport


class SluiceReplicationPlugin(AirflowPlugin):
    name = "sluice_replication"
    fastapi_apps = [{"app": create_app(), "url_prefix": PREFIX, "name": "sluice replication"}]
    external_views = [
        {
            "name": "Replication",
            "href": PREFIX + PAGE,
            "destination": "nav",
            "url_route": "replication",
        }
    ]
    global_operator_extra_links = [VerificationReport()]
