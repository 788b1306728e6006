"""What sluice records in the target database itself: the `sluice_state` table, one row per
table (its sync watermark, counts and recorded source columns). A copy's publish clears a
table's row; a sync writes it in the transaction that applies the rows it describes. And the
copy's chunk ledger (ledger.py): each committed chunk, in its own transaction, for `--resume`.
And change capture's positions (positions.py): `sluice_capture`, one row per capture, written
with the batch it describes.

May import: sluice.dialects, sluice.core.
"""
