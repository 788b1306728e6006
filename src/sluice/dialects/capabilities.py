"""What an engine can do, as one frozen value per dialect: batch sizes and code paths derive
from these facts instead of from the engine's name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do; batch sizes and code paths derive from these."""

    max_identifier_length: int
    max_bind_parameters: int
    bulk_method: str  # how `bulk_load` writes: "copy", "bcp", "multirow-insert", ...
    transactional_ddl: bool
    timestamp_precision: int  # fractional-second digits of the widest timestamp type
    default_schema: str | None  # None where the engine has no schemas (MySQL, SQLite)
    # Build the primary key after the bulk load (faster); False where the engine cannot add it
    # later (SQLite) or needs it up front (MySQL: an AUTO_INCREMENT column must be a key).
    key_after_load: bool = True
    # Hostile values (sluice.core.hostile): what a text or float column can hold, and whether the
    # engine enforces declared string lengths (SQLite does not: a VARCHAR(5) holds anything).
    text_nul: bool = True  # U+0000 inside text (PostgreSQL text cannot hold it)
    text_surrogates: bool = False  # unpaired UTF-16 surrogates (SQL Server nvarchar only)
    float_nan: bool = True
    float_infinity: bool = True
    float_silent: bool = False  # a NaN/Infinity it cannot hold is stored as something else
    # a float's negative zero (-0.0) kept as itself; where not, the column stores 0 silently
    float_negative_zero: bool = True
    enforces_length: bool = True
    # Any column holds a value of any storage class, whatever its declared type (SQLite: 'abc'
    # in an INTEGER column): a typed target refuses such a value by key (sluice.core.hostile)
    typed_values: bool = True
    # One write transaction at a time per database (SQLite's file lock): sluice queues its own
    # writers on one lock per target (sluice.copy.writers) instead of on the engine's busy wait.
    single_writer: bool = False
    # Index names are unique per table (MySQL, SQL Server) or per schema (PostgreSQL, SQLite):
    # there the plan gives colliding names a table prefix. Index kinds beyond the ordinary.
    index_names_per_table: bool = False
    index_kinds: frozenset = frozenset()
    # Dates like '0000-00-00' or '2020-00-15' (MySQL outside NO_ZERO_DATE / NO_ZERO_IN_DATE)
    zero_dates: bool = False
    # Schemas (ADR 0014): whether tables live in named schemas beside the default one (SQLite:
    # no), and whether a schema is a database of the server (MySQL, MariaDB): then a source
    # is read in its URL's database only, unless other databases are named (--schemas)
    schemas: bool = True
    schemas_are_databases: bool = False
    # Dates and timestamps before every other ('-infinity'): what --zero-dates -infinity stores
    infinite_dates: bool = False
    # The kinds an identity column may have here (None: any)
    identity_kinds: frozenset | None = None
