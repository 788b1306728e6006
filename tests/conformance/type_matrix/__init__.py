"""The type matrix (issue 21): every type of each engine's own documented list, to every
target engine, as data. `tests/conformance/test_type_matrix.py` walks it through the real
PostgreSQL and MariaDB servers and SQLite files (and SQL Server at compile level), and
`tools/type_mapping.py` renders docs/type-mapping.md from it, so the page says what the tests
prove.

A `Row` is a source engine, a source column declaration, its edge values (SQL literals of the
source engine: each end of the range, special values, empty, NULL as None) and, per target
engine, a `To`: the declaration the plan gives the target column and the outcome:

* `exact`: every value of the source type's domain arrives unchanged (`widening`: the same,
  in a wider target type). The test compares both databases by an independent read.
* `lossy`: some values would change: refused unless `--allow-lossy` (the plan names it).
* `refused`: the plan stops naming table, column and type; `option` is what carries it
  (`--carry-as-text`: the source server's own text, compared exactly), if anything does.

`bad` lists edge values a target refuses one by one (a value outside its range: infinity,
NaN, BC dates): the copy of a table holding one must fail naming table, column and key.

The case tables this grew from stay where they test more than one column's type:
`mariadb_pg_cases.EDGES` (options: --zero-dates, --allow-lossy values, sql_mode; SERIAL,
index names), `cases.TYPE_CASES` (the Python values of the bulk and INSERT paths) and the
same-engine whole-database suites (tests/integration/*_native_data.py, verify both ways).
`EDGES` is rendered with this matrix, as its option cases.

SQL Server rows have `mssql`: (sys.types name, the neutral type reflection gives) instead of
live values; no SQL Server runs here, so they are checked at compile level only.

One module per source engine holds its rows (`postgresql`, `mariadb`, `sqlite`, `mssql`);
`model` the row types and the shorthands (`X` exact, `W` widening, `L` lossy, `R` refused).
"""

from __future__ import annotations

from tests.conformance.type_matrix.mariadb import MY_ROWS
from tests.conformance.type_matrix.model import (  # noqa: F401  (the matrix's vocabulary)
    ALL_BYTES,
    CARRY,
    ENGINES,
    LITE,
    LIVE,
    LOSSY,
    MS,
    MY,
    MY_ALL_BYTES,
    PG,
    TITLE,
    Row,
    To,
)
from tests.conformance.type_matrix.mssql import MS_ROWS
from tests.conformance.type_matrix.postgresql import PG_ROWS, PG_SETUP
from tests.conformance.type_matrix.sqlite import LITE_ROWS

MATRIX: list[Row] = [*PG_ROWS, *MY_ROWS, *LITE_ROWS, *MS_ROWS]


def rows_from(source: str) -> list[Row]:
    return [r for r in MATRIX if r.source == source]


def setup_for(source: str) -> list[str]:
    """What a source database needs before its tables (PostgreSQL's enum, composite, domain)."""
    return PG_SETUP if source == PG else []
