"""Airflow connection fields -> engine URLs: the engine follows from the connection type."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sluice.airflow.connections import url_from_connection
from sluice.core.errors import ConfigError


def conn(conn_type, host=None, port=None, login=None, password=None, schema=None):
    return SimpleNamespace(conn_id="c", conn_type=conn_type, host=host, port=port, login=login,
                           password=password, schema=schema)  # fmt: skip


@pytest.mark.parametrize(
    ("c", "database", "expected"),
    [
        (conn("mssql", "mssql-source", 1433, "sa", "p@ss:w/rd", "StackOverflow2010"), None,
         "mssql+pymssql://sa:***@mssql-source:1433/StackOverflow2010"),
        (conn("mssql", "mssql-target", 1433, "sa", "x", "master"), "stackoverflow_target",
         "mssql+pymssql://sa:***@mssql-target:1433/stackoverflow_target"),
        (conn("postgres", "pg", 5432, "postgres", None, "so"), None,
         "postgresql://postgres@pg:5432/so"),
        (conn("postgres", "/tmp/sock dir", None, "postgres", None, "so"), None,
         "postgresql://postgres@/so?host=%2Ftmp%2Fsock+dir"),
        (conn("mysql", "db", 3306, "root", "", "so"), None, "mysql+pymysql://root@db:3306/so"),
        (conn("sqlite", "/tmp/x.db"), None, "sqlite:////tmp/x.db"),
    ],
)  # fmt: skip
def test_connection_types_map_to_engines(c, database, expected):
    url = url_from_connection(c, database)
    assert str(url) == expected
    if c.password:
        assert url.password == c.password  # kept for the driver, masked when printed


def test_unknown_connection_type_names_the_known_ones():
    with pytest.raises(ConfigError, match="oracle.*mssql"):
        url_from_connection(conn("oracle", "h"))
