"""The "Verification report" button on each run's verify task in the Airflow UI: a link to
that run's report, served by the plugin's app (`sluice.airflow.ui.app`). Imported by the
plugin only (it needs Airflow)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from airflow.sdk import BaseOperatorLink

from sluice.airflow.reports import run_file
from sluice.airflow.ui.app import PREFIX

VERIFY_TASK = "verify"  # the task id every sluice DAG verifies with


def report_path(dag_id: str, run_id: str, base_url: str = "") -> str:
    """Where the plugin serves the run's HTML report, under the API server's base path."""
    base = urlsplit(base_url).path.rstrip("/")
    return f"{base}{PREFIX}/reports/{quote(dag_id, safe='')}/{quote(run_file(run_id))}.html"


class VerificationReport(BaseOperatorLink):
    """A global extra link: Airflow asks it of every task; verify tasks get a URL."""

    name = "Verification report"

    def get_link(self, operator, *, ti_key) -> str:
        if ti_key.task_id != VERIFY_TASK:
            return ""
        from airflow.configuration import conf

        return report_path(ti_key.dag_id, ti_key.run_id, conf.get("api", "base_url", fallback=""))
