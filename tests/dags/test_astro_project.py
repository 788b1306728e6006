"""The repository root is an Astro CLI project: check the files `astro dev start` relies on."""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]

EXPECTED_CONNECTIONS = {
    "stackoverflow_source": "mssql",
    "stackoverflow_target": "mssql",
    "stackoverflow_postgres_target": "postgres",
    "stackoverflow_postgres_source": "postgres",
}

# Airflow 3 runtimes: astrocrpublic.azurecr.io/runtime:<3.minor>-<build>[-python-<version>].
# The -base flavour is refused: it lacks the ONBUILD steps the Dockerfile relies on.
RUNTIME_3_IMAGE = re.compile(r"astrocrpublic\.azurecr\.io/runtime:3\.\d+-\d+(-python-3\.\d+)?")


@pytest.fixture(scope="module")
def settings() -> dict:
    path = ROOT / "airflow_settings.yaml"
    if not path.is_file():  # inside the image (`astro dev pytest`): .dockerignore keeps it out
        pytest.skip("airflow_settings.yaml is not here: the image build context leaves it out")
    return yaml.safe_load(path.read_text())["airflow"]


def test_connections_exist_with_their_types(settings: dict) -> None:
    types = {conn["conn_id"]: conn["conn_type"] for conn in settings["connections"]}
    assert {conn_id: types.get(conn_id) for conn_id in EXPECTED_CONNECTIONS} == EXPECTED_CONNECTIONS


def test_replication_pool_has_16_slots(settings: dict) -> None:
    slots = {pool["pool_name"]: pool["pool_slot"] for pool in settings["pools"]}
    assert slots.get("stackoverflow_replication") == 16


def test_dockerfile_builds_on_astro_runtime_3() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    froms = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert froms, "Dockerfile has no FROM line"
    assert RUNTIME_3_IMAGE.fullmatch(froms[0]), froms[0]


def test_astro_config_names_the_project() -> None:
    config = yaml.safe_load((ROOT / ".astro" / "config.yaml").read_text())
    assert config["project"]["name"] == "sluice"
