"""What the plan reads of the source after its catalog: key ranges and row estimates,
relation sizes, the source's own types, its views and sequences. One connection, each
statement watched for a stall (issue 23): a source gone silent here ends the plan with one
line naming the source, never a hang."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from sluice.copy.stalls import watched_statements
from sluice.core.errors import SluiceError
from sluice.core.faults import fault_error
from sluice.core.schema import Table
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect


def source_statistics(source: DbUrl, reflected: Sequence[Table]) -> tuple:
    """Key ranges and row estimates, relation sizes, the source's own types, its views and
    sequences, read on one connection whose statements are watched for a stall
    (`stalls.watched_statements`): a source gone silent after the catalog read ends the
    plan with one line, not a hang."""
    dialect = get_dialect(source.engine)
    conn = dialect.connect(source)
    try:
        with watched_statements(dialect, source, conn, "source", "planning") as watched:
            stats = dialect.key_stats(source, reflected, watched)
            sizes = dialect.relation_bytes(source, reflected, watched)
            natives = dialect.native_types(source, reflected, watched)
            objects = (dialect.list_views(watched), dialect.list_sequences(watched))
        return stats, sizes, natives, objects
    except SluiceError:
        raise
    except Exception as exc:
        fault = dialect.classify_fault(exc)
        detail = redact_all(" ".join(str(exc).split()))
        raise fault_error(fault, f"planning: reading the source's statistics: {detail}",
                          side="source", url=source) from None  # fmt: skip
    finally:
        with contextlib.suppress(Exception):
            conn.close()
