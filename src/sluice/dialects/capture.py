"""Change capture (sluice.capture, docs/cdc.md): the `Dialect` methods that start, read,
confirm, inspect and stop a capture on an engine's own change log. The defaults refuse by
name; postgresql_capture (logical slot + publication, pgoutput), mysql_capture (the binlog)
and mssql_capture (Change Tracking) fill them in.

A capture is named (`name`: lowercase letters, digits and underscores, at most 48): one per
replica of a source, so two replicas of one database each keep their own position.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sluice.core.changes import CaptureStatus, Change, Commit
from sluice.core.errors import ConfigError
from sluice.core.schema import Table
from sluice.core.urls import DbUrl


class ChangeCapture:
    """Mixed into `Dialect`."""

    name: str

    def _no_capture(self) -> ConfigError:
        return ConfigError(f"change capture is not available for {self.name} sources")

    def capture_start(self, url: DbUrl, name: str, tables: Sequence[Table]) -> str:
        """Start capturing `tables`' changes and return the position the log is read from:
        every change committed after it is read by `capture_changes`. Checks what the source
        must allow (wal_level, binlog format, Change Tracking) and says what is missing.
        Starting a capture that exists replaces it (a new copy starts a new history)."""
        raise self._no_capture()

    def capture_changes(
        self, url: DbUrl, name: str, tables: Sequence[Table], after: str, limit: int
    ) -> Iterator[Change | Commit]:
        """The changes to `tables` committed after `after`, in commit order, each
        transaction's changes followed by its Commit. Stops at the first commit after about
        `limit` changes (a transaction is never split), or at the end of the log. Values
        are as the engine's reader returns them; streamed, never held whole."""
        raise self._no_capture()

    def capture_confirm(self, url: DbUrl, name: str, position: str) -> None:
        """Everything up to `position` is applied on the replica: the source may free the
        log before it (a slot advanced). Safe to call twice or with an older position."""
        raise self._no_capture()

    def capture_status(self, url: DbUrl, name: str, position: str | None = None) -> CaptureStatus:
        """The capture's state on the source; `position`, the replica's, where known (an
        engine without a server-side bookmark measures the lag and validity from it)."""
        raise self._no_capture()

    def capture_stop(self, url: DbUrl, name: str) -> bool:
        """Drop what the capture holds on the source; False when there was nothing."""
        raise self._no_capture()

    def position_order(self, position: str) -> tuple:
        """A sort key for this engine's positions: `a` is before `b` when its key is less."""
        raise self._no_capture()
