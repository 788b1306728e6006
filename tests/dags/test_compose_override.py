"""docker-compose.override.yml as Astro CLI's Compose project sees it.

Astro CLI's Airflow 3 Compose template (astro-cli, airflow/include/airflow3/composeyml.go.tmpl)
declares a bridge network named `airflow` and lists it under every Airflow service, publishing
Postgres and the API server on 127.0.0.1 unless told otherwise. A service added by the override
file joins only the networks it names (without any, Compose's `default`, which no Airflow
container is on), so each added database must name `airflow` to be reached by its service name,
the host of its connection in airflow_settings.yaml; and its ports, guarded by development
passwords, stay on the loopback address like Astro's own.
"""

from __future__ import annotations

import pytest
import yaml
from tests.dags.conftest import ROOT

ASTRO_NETWORK = "airflow"  # the network every service of Astro's Airflow 3 template is on
DATABASES = {"mssql-source", "mssql-target", "postgres-source", "postgres-target"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.override.yml").read_text())["services"]


def host_ip(port) -> str | None:
    """The address a Compose port entry publishes on (None: every interface). Short syntax
    `[IP:][HOST:]CONTAINER[/proto]` (an IPv6 address in brackets) or the long mapping."""
    if isinstance(port, dict):
        return port.get("host_ip")
    text = str(port)
    if text.startswith("["):
        return text[1 : text.index("]")]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else None


@pytest.mark.parametrize(
    ("port", "ip"),
    [("127.0.0.1:1433:1433", "127.0.0.1"), ("1433:1433", None), ("1433", None),
     ("[::1]:5433:5432", "::1"), ("127.0.0.1:5433:5432/tcp", "127.0.0.1"),
     ({"target": 5432, "published": 5433, "host_ip": "127.0.0.1"}, "127.0.0.1"),
     ({"target": 5432, "published": 5433}, None)],
)  # fmt: skip
def test_host_ip_reads_compose_port_syntaxes(port, ip) -> None:
    assert host_ip(port) == ip


def test_the_seed_databases_are_added(services: dict) -> None:
    assert set(services) >= DATABASES


def test_every_added_service_joins_astros_network(services: dict) -> None:
    for name, service in services.items():
        networks = service.get("networks") or []
        assert ASTRO_NETWORK in networks, f"{name} is not on the `{ASTRO_NETWORK}` network"


def test_every_published_port_is_on_loopback_only(services: dict) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert host_ip(port) in ("127.0.0.1", "::1"), f"{name} publishes {port!r} widely"


def test_connection_hosts_are_added_services(services: dict) -> None:
    path = ROOT / "airflow_settings.yaml"
    if not path.is_file():
        pytest.skip("airflow_settings.yaml is not here: the image build context leaves it out")
    conns = yaml.safe_load(path.read_text())["airflow"]["connections"]
    hosts = {c["conn_id"]: c["conn_host"] for c in conns if c["conn_id"].startswith("stack")}
    assert hosts and set(hosts.values()) <= set(services), hosts
