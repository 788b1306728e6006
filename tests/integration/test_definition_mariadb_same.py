"""MariaDB -> MariaDB keeps a table's whole definition (issue 26): defaults, ON UPDATE
CURRENT_TIMESTAMP, collations, CHECK, AUTO_INCREMENT; compared through each server's own
SHOW CREATE TABLE, never through sluice's reading."""

from __future__ import annotations

import pytest
from tests.conformance.test_mariadb_pg import query, run_sql

from sluice.cli.main import main
from sluice.core.urls import DbUrl

SOURCE = [
    "CREATE TABLE stamped ("
    " id int AUTO_INCREMENT PRIMARY KEY,"
    " code varchar(20) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci NOT NULL,"
    " note varchar(20) DEFAULT 'it''s',"
    " qty int NOT NULL DEFAULT 0,"
    " born date DEFAULT curdate(),"
    " created datetime(6) NOT NULL DEFAULT current_timestamp(6),"
    " updated timestamp(3) NOT NULL DEFAULT current_timestamp(3)"
    " ON UPDATE current_timestamp(3),"
    " UNIQUE KEY uq_code (code), CONSTRAINT ck_qty CHECK (qty >= 0)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "INSERT INTO stamped (code) VALUES ('a'), ('b')",
]


def columns_and_checks(url: DbUrl) -> list[tuple]:
    """Each column's type, collation, nullability, default and EXTRA (ON UPDATE,
    auto_increment), then each CHECK, as the server's information_schema reports them."""
    cols = query(url, "SELECT COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME, IS_NULLABLE, "
                      "COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS "
                      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'stamped' "
                      "ORDER BY ORDINAL_POSITION")  # fmt: skip
    checks = query(url, "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM "
                        "information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = "
                        "DATABASE() AND TABLE_NAME = 'stamped'")  # fmt: skip
    return cols + checks


@pytest.fixture(scope="module")
def ends(mysql_server: DbUrl):
    from tests.conftest import _fresh

    src_gen, dst_gen = _fresh(mysql_server, "xeng_same_src"), _fresh(mysql_server, "xeng_same_dst")
    source, target = next(src_gen), next(dst_gen)
    run_sql(source, SOURCE)
    argv = ["copy", "--source", source.render_secret(), "--target", target.render_secret()]
    assert main(argv) == 0
    yield source, target
    next(dst_gen, None)
    next(src_gen, None)


def test_the_replica_declares_every_column_and_check_as_the_source(ends):
    source, target = ends
    want, got = columns_and_checks(source), columns_and_checks(target)
    assert ("updated", "timestamp(3)", None, "NO", "current_timestamp(3)",
            "on update current_timestamp(3)") in want  # fmt: skip
    assert got == want


def test_the_replica_behaves_as_the_source(ends):
    _, target = ends
    run_sql(target, ["INSERT INTO stamped (code) VALUES ('c')"])
    assert query(target, "SELECT id, note, qty FROM stamped WHERE code = 'c'") == [(3, "it's", 0)]
    with pytest.raises(Exception, match="ck_qty"):
        run_sql(target, ["INSERT INTO stamped (code, qty) VALUES ('d', -1)"])
    with pytest.raises(Exception, match="Duplicate"):
        run_sql(target, ["INSERT INTO stamped (code) VALUES ('A')"])
