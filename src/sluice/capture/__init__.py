"""Change capture: the replica follows the source's own change log (a PostgreSQL logical
slot, the MySQL binlog, SQL Server Change Tracking), exact and consistent to one instant.

Modules: apply (netting and writing changes), run (start, sync, status, stop).
May import: sluice.sync, sluice.copy, sluice.state, sluice.dialects, sluice.core.
"""

from sluice.capture.run import (
    CaptureResult,
    capture_name,
    capture_status,
    start_capture,
    stop_capture,
    sync_changes,
)

__all__ = [
    "CaptureResult",
    "capture_name",
    "capture_status",
    "start_capture",
    "stop_capture",
    "sync_changes",
]
