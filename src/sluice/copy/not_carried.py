"""What a copy does not create (issue 26): the plan's last section, "not carried".

sluice copies tables (and, on the same engine, views and sequences). Everything else the
source defines around them is listed here with its source DDL so a person can port it by
hand, on every pair of engines, the same engine included: triggers, functions and
procedures, rules, row-level security and its policies, grants, events (read by the source
dialect's `list_not_carried`), and the views and sequences `copy.objects` does not carry.
Only what belongs to the run's selection is listed: objects of the schemas read, and of
the tables, views and sequences the plan holds (a trigger on a skipped table is the
table's business: the table is listed as skipped). Other stages add their own items (a
default or a CHECK without an equivalent) to `Plan.not_carried` the same way.

`--fail-on-not-carried` turns a non-empty section into a refusal before any table is
touched (`refuse_not_carried`)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from sluice.copy.refusals import Selection
from sluice.copy.stalls import watched_statements
from sluice.core.definition import NotCarried
from sluice.core.errors import SluiceError, TerminalError
from sluice.core.faults import fault_error
from sluice.core.schema import qualified_key
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

SHOWN = 5  # items named in a refusal's one line before "and N more"
# what sluice copies instead, per kind (the reason's first half)
_WHAT = {"trigger": "triggers", "event trigger": "event triggers", "function": "routines",
         "procedure": "routines", "aggregate": "routines", "rule": "rules",
         "policy": "row-level security", "row level security": "row-level security",
         "grant": "privileges", "event": "events", "database trigger": "triggers",
         "extension": "extensions (only those its columns' types need)"}  # fmt: skip
_GRANT = "; its grantee must exist there (roles and users are the server's)"


class NotCarriedError(TerminalError):
    """--fail-on-not-carried and the plan lists something the copy would not create."""


def gather(source: DbUrl, plan: Any, selection: Selection,
           defaults: tuple[str | None, str | None]) -> tuple[NotCarried, ...]:  # fmt: skip
    """`plan.not_carried` (what other stages put there, kept first) and the items of the
    plan's selection that the copy will not create, each with its reason and source DDL:
    what the source's catalog lists, then the views and sequences the plan does not carry
    (their reasons are `copy.objects`')."""
    default = defaults[0]
    databases = get_dialect(source.engine).caps.schemas_are_databases

    def inside(schema: str | None) -> bool:
        return _inside(schema, selection, default, databases)

    listed = _read(source, inside)
    relations = {t.name for t in plan.tables}
    relations |= {o.key for o in (*plan.views, *plan.sequences) if inside(o.schema)}
    out = list(plan.not_carried)
    made = {n.name for n in plan.native_types if n.kind == "extension"}  # for copied columns
    for kind, schema, table, name, ddl in listed:
        if not inside(schema) or (kind == "extension" and name in made):
            continue
        key_schema = None if schema == default else schema
        if table is not None and qualified_key(key_schema, table) not in relations:
            continue  # on a table the selection left out (listed as skipped)
        key = _key(kind, schema, key_schema, table, name)
        if kind == "catalog":  # a query the source refused: said, with the server's words
            out.append(NotCarried(kind, name, f"could not be listed: {redact_all(ddl)}"))
            continue
        # a routine may hold a connection string: its password is masked like any other
        out.append(NotCarried(kind, key, _reason(kind, plan), redact_all(ddl)))
    for kind, objs in (("view", plan.views), ("sequence", plan.sequences)):
        out += [NotCarried(kind, o.key, o.reason, o.ddl) for o in objs
                if o.reason and inside(o.schema)]  # fmt: skip
    return tuple(out)


def _key(kind: str, schema: str | None, key_schema: str | None, table: str | None,
         name: str) -> str:  # fmt: skip
    """Where an item lives, keyed as the plan keys tables: `table.trigger`, `schema.routine(args)`,
    a grant as `table to grantee` (`schema s to grantee` for a schema's)."""
    if kind == "grant":
        on = qualified_key(key_schema, table) if table is not None else f"schema {schema}"
        return f"{on} to {name}"
    where = qualified_key(key_schema, table or name)
    return f"{where}.{name}" if table is not None and name else where


def _read(source: DbUrl, inside) -> list[tuple]:
    """The source dialect's list, read on a connection watched for a stall."""
    dialect = get_dialect(source.engine)
    conn = dialect.connect(source)
    try:
        with watched_statements(dialect, source, conn, "source", "planning") as watched:
            return dialect.list_not_carried(watched, inside)
    except SluiceError:
        raise
    except Exception as exc:
        detail = redact_all(" ".join(str(exc).split()))
        raise fault_error(dialect.classify_fault(exc), "planning: listing what is not carried: "
                          f"{detail}", side="source", url=source) from None  # fmt: skip
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _reason(kind: str, plan: Any) -> str:
    src, dst = plan.source_engine, plan.target_engine
    extra = _GRANT if kind == "grant" else ""
    if src != dst:
        return f"a {src} {kind} is not translated to {dst}: port it by hand{extra}"
    what = _WHAT.get(kind, f"{kind}s")
    return f"sluice copies tables, not {what}: make it on the target from its DDL{extra}"


def _inside(schema: str | None, selection: Selection, default: str | None,
            databases: bool) -> bool:  # fmt: skip
    """Whether `schema` is one the run reads (None: the database's, always), as `copy.scope`
    decides: those --schemas names, else every one; where a schema is a database of the
    server (`databases`: MariaDB), the URL's alone unless --schemas names others."""
    if schema is None:
        return True
    if selection.schemas:
        if not any(fnmatchcase(schema, p) for p in selection.schemas):
            return False
    elif databases and schema != default:
        return False
    return not any(fnmatchcase(schema, p) for p in selection.exclude_schemas)


def counts(items: Sequence[NotCarried]) -> str:
    """'2 trigger, 1 function' in the order kinds first appear."""
    by_kind: dict[str, int] = {}
    for item in items:
        by_kind[item.kind] = by_kind.get(item.kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in by_kind.items())


SEE = ("`sluice plan` with the same options lists each with its reason and source DDL "
       "(--json: as data)")  # fmt: skip


def refuse_not_carried(plan: Any, fail: bool, see: str = SEE) -> None:
    """With `fail` (--fail-on-not-carried), stop before any table is touched when the plan
    lists anything not carried: their count, the first few, and where to see them all."""
    items = plan.not_carried
    if not fail or not items:
        return
    shown = "; ".join(f"{i.kind} {i.key}" for i in items[:SHOWN])
    more = f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    raise NotCarriedError(
        f"--fail-on-not-carried: {len(items)} item(s) of the source would not be carried "
        f"({counts(items)}): {shown}{more}. No table was touched; {see}",
    ).with_facts(target_state="untouched")
