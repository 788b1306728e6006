"""Keeping a replica fresh: per-table watermarks select changed rows, which go through the
copy's chunk path into a staging table and are upserted; deletes are found by comparing key
ranges; schema drift is applied or refused.

Modules: watermarks, drift, deletes, run (`sync_database`).
May import: sluice.copy, sluice.state, sluice.datasets, sluice.dialects, sluice.core.
"""

from sluice.sync.run import SyncOptions, SyncResult, TableSync, apply_sql, sync_database

__all__ = ["SyncOptions", "SyncResult", "TableSync", "apply_sql", "sync_database"]
