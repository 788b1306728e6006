"""Foreign keys to tables outside the copy (`--tables`, excluded, skipped): kept in the plan
with their referenced end placed as it would land on the target, created when the target
already has that table with a primary or unique key on exactly the referenced columns, and
otherwise listed: in the plan's "not carried" section, and in the run's result (ADR 0021)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sluice.copy.refusals import Selection
from sluice.copy.scope import target_schema
from sluice.core.definition import NotCarried
from sluice.core.naming import convert
from sluice.core.schema import ForeignKey


def outside_keys(declared: Sequence[ForeignKey], names: set[str], selection: Selection,
                 defaults) -> tuple[ForeignKey, ...]:  # fmt: skip
    """The declared keys whose referenced table the copy leaves out, that end placed as it
    would land on the target (its schema mapped, its names in the target's style)."""
    policy = selection.identifiers
    out = []
    for fk in declared:
        if fk.ref_key in names:
            continue
        schema = target_schema(fk.ref_schema, selection, *defaults)
        landing = None if schema is None else convert(schema, policy)
        columns = tuple(convert(c, policy) for c in fk.ref_columns)
        out.append(replace(fk, ref_schema=landing, ref_table=convert(fk.ref_table, policy),
                           ref_columns=columns))  # fmt: skip
    return tuple(out)


def outside_item(fk: ForeignKey) -> NotCarried:
    """The plan's "not carried" line of an outside key: what decides whether it is made."""
    cols = ", ".join(fk.ref_columns)
    return NotCarried("foreign key", f"{fk.table_key}.{fk.name}",
                      f"references {fk.ref_key}, outside the copy: created at finish if the "
                      f"target has {fk.ref_key} with a key on ({cols}), else listed")  # fmt: skip
