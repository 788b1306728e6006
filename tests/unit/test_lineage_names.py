"""Each engine names its tables as OpenLineage's naming spec does
(https://openlineage.io/docs/spec/naming), from host, port and names only; and lineage that
cannot be built never fails the task that records it."""

from __future__ import annotations

import logging

import pytest

from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect

CASES = [  # url, schema, table -> namespace, name
    ("postgresql://u:s3cret@db.example:6543/shop", "sales", "orders",
     ("postgres://db.example:6543", "shop.sales.orders")),
    ("postgresql://u:s3cret@db.example/shop", None, "orders",
     ("postgres://db.example:5432", "shop.public.orders")),
    ("postgresql://u@/shop?host=/var/run/postgresql", None, "Users",  # a socket: this machine
     ("postgres://localhost:5432", "shop.public.Users")),
    ("mysql+pymysql://u:s3cret@maria:3307/shop", None, "orders",
     ("mysql://maria:3307", "shop.orders")),
    ("mariadb+pymysql://u:s3cret@maria/shop", "archive", "orders",  # another database
     ("mysql://maria:3306", "archive.orders")),
    ("mssql+pymssql://sa:s3cret@sql1/StackOverflow2010", None, "Posts",
     ("sqlserver://sql1:1433", "StackOverflow2010.dbo.Posts")),
    ("mssql+pymssql://sa:s3cret@sql1:14330/so", "sales", "orders",
     ("sqlserver://sql1:14330", "so.sales.orders")),
]  # fmt: skip


@pytest.mark.parametrize(("url", "schema", "table", "expected"), CASES)
def test_openlineage_names(url, schema, table, expected):
    db = DbUrl.parse(url)
    got = get_dialect(db.engine).lineage_dataset(db, schema, table)
    assert got == expected
    assert "s3cret" not in "".join(got) and "u:" not in got[0]


def test_sqlite_has_no_openlineage_name(tmp_path):
    db = DbUrl.parse(f"sqlite:///{tmp_path}/x.db")
    assert get_dialect(db.engine).lineage_dataset(db, None, "t") is None


def test_lineage_that_fails_to_build_is_logged_not_raised(monkeypatch, caplog, capsys):
    pytest.importorskip("airflow.providers.openlineage")
    from sluice.airflow import lineage

    monkeypatch.setattr(lineage, "enabled", lambda: True)  # as with a transport configured

    def broken():
        raise ValueError("no plan for postgresql://u:hunter2pw@db/x")

    with caplog.at_level(logging.WARNING, logger="sluice.airflow.lineage"):
        lineage.record(broken)
    logged = caplog.text + capsys.readouterr().out  # Airflow's structlog, once imported, prints
    assert "OpenLineage: no lineage" in logged and "hunter2pw" not in logged
