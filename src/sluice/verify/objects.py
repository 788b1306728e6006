"""Views and standalone sequences in a verification (issue 24): on a same-engine replica,
each carried view must exist on the target and each carried sequence must hand out the
same next value as the source's (a mismatch otherwise); one the copy does not carry (another
engine, a schema left out, a relation not copied) is reported as not carried, with its
reason, never as a match and never as a mismatch."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sluice.copy.objects import landing
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect


@dataclass(frozen=True)
class ObjectCheck:
    kind: str  # "view" or "sequence"
    name: str  # the plan's key
    status: str  # "match", "missing", "differs" or "not carried"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("match", "not carried")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "status": self.status, "ok": self.ok,
                "detail": self.detail}  # fmt: skip


def check_objects(plan, target: DbUrl, only: Any = None) -> list[ObjectCheck]:
    """One check per view and sequence of the plan's source (read when it was planned); none
    when verify compares `only` some ranges (after a repair)."""
    if only is not None:
        return []
    out = [ObjectCheck(kind, o.key, "not carried", o.reason)
           for kind, objs in (("view", plan.views), ("sequence", plan.sequences))
           for o in objs if o.reason]  # fmt: skip
    views = [v for v in plan.views if not v.reason]
    seqs = [s for s in plan.sequences if not s.reason]
    if not views and not seqs:
        return out
    dst = get_dialect(target.engine)
    conn = dst.connect(target)
    try:
        there = {(v.schema, v.name) for v in dst.list_views(conn)}
        values = dst.sequence_next_values(conn)
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    for v in views:
        found = (landing(dst, target, v), v.name) in there
        out.append(ObjectCheck("view", v.key, "match" if found else "missing",
                               "" if found else "missing in the target"))  # fmt: skip
    for s in seqs:
        theirs = values.get((landing(dst, target, s), s.name))
        if theirs is None:
            out.append(ObjectCheck("sequence", s.key, "missing", "missing in the target"))
        elif theirs != s.next_value:
            out.append(ObjectCheck("sequence", s.key, "differs",
                                   f"next value {theirs} on the target, {s.next_value} on the "
                                   "source"))  # fmt: skip
        else:
            out.append(ObjectCheck("sequence", s.key, "match", f"next value {theirs}"))
    return out
