"""PostgreSQL -> MySQL moves raw CSV into LOAD DATA LOCAL. Two promises beyond the values the
conformance suite checks: a value the server would change on the way (LOCAL turns errors
into warnings) is never stored changed, and no statement but sluice's own may make the
client send a file."""

from __future__ import annotations

import logging

import pytest

from sluice.copy import CopyOptions, copy_database
from sluice.dialects import get_dialect


def _source(pg_db) -> None:
    conn = get_dialect("postgresql").connect(pg_db)
    conn.execute('CREATE TABLE t ("Id" int PRIMARY KEY, ts timestamp, s varchar(5))')
    conn.execute("INSERT INTO t VALUES (1, '2020-01-01', 'a'), (2, 'infinity', 'b'), "
                 "(3, '2021-01-01 10:00:00.5', 'c')")  # fmt: skip
    conn.commit()
    conn.close()


def test_a_value_the_loader_would_change_is_never_stored(pg_db, mysql_db, caplog):
    _source(pg_db)
    caplog.set_level(logging.WARNING)
    result = copy_database(pg_db, mysql_db, CopyOptions())
    assert result.plan.table("t").raw_format == "csv"
    # MariaDB would store 'infinity' as a zero date with a warning: the chunk is rejected,
    # copied again as values, and the decoded path refuses the value by name
    assert "Data truncated for column 'ts'" in caplog.text
    assert "copying the range again as decoded values" in caplog.text
    assert not result.ok and "infinity" in result.failures[0]
    d = get_dialect("mysql")
    conn = d.connect(mysql_db)
    assert not d.table_exists(conn, "t")  # nothing published, nothing half-loaded kept
    conn.close()


def test_the_client_sends_no_file_outside_its_own_load(mysql_db):
    d = get_dialect("mysql")
    conn = d.connect(mysql_db)
    cur = conn.cursor()
    cur.execute("CREATE TABLE f (line TEXT)")
    # a statement of anyone else's (or a server asking on its own) gets no file
    with pytest.raises(Exception, match="local_infile"):
        cur.execute("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE f")
    conn.close()
