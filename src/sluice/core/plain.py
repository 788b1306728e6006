"""Tables, keys and names from their plain (JSON) form: how a serialised plan comes back."""

from __future__ import annotations

from typing import Any

from sluice.core.definition import Check, default_from, partitioning_from
from sluice.core.naming import Names
from sluice.core.schema import Column, ForeignKey, Index, Table
from sluice.core.types import Kind, SqlType


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Kind):
        return value.value
    return value


def foreign_key_from(d: dict[str, Any]) -> ForeignKey:
    return ForeignKey(d["table"], tuple(d["columns"]), d["ref_table"], tuple(d["ref_columns"]),
                      d.get("schema"), d.get("ref_schema"), d.get("constraint"),
                      d.get("on_delete", ""), d.get("on_update", ""),
                      d.get("deferrable", False), d.get("initially_deferred", False))  # fmt: skip


def _column(c: dict[str, Any]) -> Column:
    return Column(c["name"], SqlType(**{**c["type"], "kind": Kind(c["type"]["kind"])}),
                  c["nullable"], c["identity"], c.get("identity_kind", ""),
                  default_from(c.get("default")), c.get("on_update", ""), c.get("comment"),
                  c.get("collation"), c.get("case_insensitive"))  # fmt: skip


def table_from(d: dict[str, Any]) -> Table:
    cols = tuple(_column(c) for c in d["columns"])
    return Table(
        d["name"], cols, tuple(d["primary_key"]), d["schema"],
        tuple(foreign_key_from(f) for f in d["foreign_keys"]),
        tuple(Index(i["name"], tuple(i["columns"]), i["unique"], i.get("kind", ""))
              for i in d["indexes"]),
        d["primary_key_name"], d.get("where", ""),
        tuple(Check(**c) for c in d.get("checks", ())), d.get("comment"),
        tuple(d.get("inherits", ())), partitioning_from(d.get("partitioning")),
    )  # fmt: skip


def names_from(d: dict[str, Any] | None) -> Names | None:
    if d is None:
        return None
    pairs = lambda v: tuple(tuple(p) for p in v)  # noqa: E731
    return Names(d["table"], pairs(d["columns"]), d["primary_key"], pairs(d["indexes"]))
