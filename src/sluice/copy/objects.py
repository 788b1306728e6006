"""Views and standalone sequences (issue 24): which ones a copy carries, and making them on
the target once its tables are published.

Same engine: every view and sequence of the schemas read is made again, in its landing
schema, sequences with the source's options and value (the next value on the target is
the source's). A view reading a relation the copy does not carry is not carried, with
that reason; views are made in passes, so one on another waits for it. Another engine:
each is listed as not carried with its source DDL (views are queries in the source's SQL
dialect: translating them is not sluice's job). Nothing is left out unsaid."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from sluice.copy.refusals import Selection
from sluice.copy.scope import target_schema
from sluice.core.definition import SEQUENCE
from sluice.core.objects import SequenceDef, View, keyed
from sluice.core.schema import qualified_key
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

log = logging.getLogger(__name__)


@dataclass
class ObjectsResult:
    """What the copy made of the source's views and sequences: each carried key, and each
    not carried with its reason (the plan's, or the target's refusal)."""

    views: list[str] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)
    not_carried: dict[str, str] = field(default_factory=dict)  # "view x" -> reason

    def to_dict(self) -> dict:
        return {"views": self.views, "sequences": self.sequences,
                "not_carried": dict(self.not_carried)}  # fmt: skip


def plan_objects(
    views: Sequence[View],
    sequences: Sequence[SequenceDef],
    plan: Any,
    selection: Selection,
    defaults: tuple[str | None, str | None],
) -> dict[str, tuple]:
    """The `plan`'s fields `views` (dependencies first) and `sequences`: the source's, keyed
    as the plan keys tables, each with where it lands and, when it is not carried, why."""
    source_engine, target_engine = plan.source_engine, plan.target_engine
    copied = [t.name for t in plan.tables]
    default = defaults[0]
    views = [keyed(v, default) for v in views]
    sequences = [keyed(s, default) for s in sequences]
    same = source_engine == target_engine

    def reason(obj, kind: str) -> str:
        why = _outside(obj.schema, selection)
        renamed = kind == "view" and getattr(selection, "identifiers", "preserve") != "preserve"
        if same and not why and renamed:  # its text names the tables as the source does
            return (f"--identifiers {selection.identifiers} renames the tables it reads: make "
                    "it from its source DDL")  # fmt: skip
        if why or same:
            return why
        return (f"a {source_engine} {kind} is not translated to {target_engine}: make it "
                "there from its source DDL")  # fmt: skip

    def lands(obj):
        key_schema = None if obj.schema == default else obj.schema
        return target_schema(key_schema, selection, *defaults)

    out_seqs = tuple(replace(s, reason=reason(s, "sequence"), target_schema=lands(s))
                     for s in sequences)  # fmt: skip
    views = [replace(v, reason=reason(v, "view"), target_schema=lands(v)) for v in views]
    if same:
        views = _readable(views, set(copied), default)
    return {"views": tuple(_ordered(views, default)), "sequences": out_seqs}


def _outside(schema: str | None, selection: Selection) -> str:
    """Why an object of `schema` is outside the run's selection ("" when it is inside)."""
    if schema is None:
        return ""
    if selection.schemas and not any(fnmatchcase(schema, p) for p in selection.schemas):
        return "its schema is not in --schemas"
    if any(fnmatchcase(schema, p) for p in selection.exclude_schemas):
        return "excluded by --exclude-schemas"
    return ""


def _ref_key(ref: str, default: str | None) -> str:
    schema, _, name = ref.rpartition(".")
    return qualified_key(None if not schema or schema == default else schema, name)


def _readable(views: list[View], copied: set[str], default: str | None) -> list[View]:
    """Views reading a relation that is neither copied nor a carried view: not carried,
    named with the first such relation (to a fixed point: a view on such a view too)."""
    changed = True
    while changed:
        changed = False
        carried = {v.key for v in views if not v.reason}
        for i, v in enumerate(views):
            if v.reason:
                continue
            gone = [r for r in v.references if _ref_key(r, default) not in copied | carried]
            if gone:
                why = f"it reads {_ref_key(gone[0], default)}, which is not copied"
                views[i] = replace(v, reason=why)
                changed = True
    return views


def _ordered(views: list[View], default: str | None) -> list[View]:
    """Each view after the views it reads (catalog order otherwise)."""
    by_key = {v.key: v for v in views}
    done: dict[str, View] = {}

    def visit(v: View, path: tuple[str, ...]) -> None:
        if v.key in done or v.key in path:
            return
        for r in v.references:
            dep = by_key.get(_ref_key(r, default))
            if dep is not None:
                visit(dep, (*path, v.key))
        done[v.key] = v

    for v in views:
        visit(v, ())
    return list(done.values())


def carried(objs: Sequence) -> list:
    return [o for o in objs if not o.reason]


def landing(dst, target: DbUrl, obj) -> str | None:
    """The schema an object is made in on the target (its default one, named)."""
    return obj.target_schema or dst.url_schema(target) or dst.caps.default_schema


def sequences_first_sql(dst, target: DbUrl, plan) -> list[str]:
    """The carried sequences, made (if missing) before the tables when a column's default
    takes its values from one (`recreate_objects` gives them the source's value after)."""
    uses = any(c.default is not None and c.default.kind == SEQUENCE and not c.identity
               for tp in plan.tables for c in tp.table.columns)  # fmt: skip
    out: list[str] = []
    for seq in carried(plan.sequences) if uses else ():
        out += dst.create_sequence_sql(seq, landing(dst, target, seq))
    return out


def drop_views_sql(dst, target: DbUrl, views: Sequence[View]) -> list[str]:
    """Statements dropping the carried views a swap would otherwise be refused for (a view
    on the table being replaced): dependents first. They are made again after publish."""
    out: list[str] = []
    for v in reversed(carried(views)):
        out += dst.drop_view_sql(v, landing(dst, target, v))
    return out


def recreate_objects(plan, target: DbUrl) -> ObjectsResult:
    """Make the plan's carried sequences and views on the target (same engine), views in
    passes until none more can be made; the rest are named with the target's reason."""
    result = ObjectsResult()
    for obj in (*plan.sequences, *plan.views):
        if obj.reason:
            result.not_carried[_label(obj)] = obj.reason
    seqs, views = carried(plan.sequences), carried(plan.views)
    if not seqs and not views:
        return result
    dst = get_dialect(target.engine)
    conn = dst.connect(target)
    try:
        for seq in seqs:
            error = _run(dst, conn, dst.create_sequence_sql(seq, landing(dst, target, seq)))
            if error:
                result.not_carried[_label(seq)] = f"the target refused it: {error}"
            else:
                result.sequences.append(seq.key)
        pending, errors = list(views), {}
        while pending:
            left = []
            for v in pending:
                error = _run(dst, conn, dst.create_view_sql(v, landing(dst, target, v)))
                if error:
                    errors[v.key] = error
                    left.append(v)
                else:
                    result.views.append(v.key)
            if len(left) == len(pending):  # no progress: what remains cannot be made
                for v in left:
                    result.not_carried[_label(v)] = f"the target refused it: {errors[v.key]}"
                break
            pending = left
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    for name, why in result.not_carried.items():
        log.warning("%s: not carried: %s", name, why)
    if result.views or result.sequences:
        log.info("made %d view(s) and %d sequence(s) on the target", len(result.views),
                 len(result.sequences))  # fmt: skip
    return result


def _label(obj) -> str:
    return f"{'view' if isinstance(obj, View) else 'sequence'} {obj.key}"


def _run(dst, conn, statements: Sequence[str]) -> str:
    """Run and commit `statements`; "" when they went through, else the server's reason."""
    try:
        cur = conn.cursor()
        for stmt in statements:
            cur.execute(stmt)
        conn.commit()
        return ""
    except Exception as exc:
        with contextlib.suppress(Exception):
            conn.rollback()
        if dst.classify_fault(exc).retryable:
            raise  # a lost connection is not the object's fault
        return redact_all(" ".join(str(exc).split()))
