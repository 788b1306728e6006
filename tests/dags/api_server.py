"""What the tests that start Airflow's API server share: the admin's token (`make airflow`
logs in as admin/admin) for its REST API."""

from __future__ import annotations

import json
import urllib.request


def admin_token(base_url: str) -> str:
    body = json.dumps({"username": "admin", "password": "admin"}).encode()
    request = urllib.request.Request(base_url + "/auth/token", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]
