"""Keys to tables outside the copy (ADR 0021): kept in the plan with their referenced end as
it would land on the target, listed as not carried, and round-tripped through the plan's
JSON; a table refused mid-copy turns the keys to it into outside keys."""

from __future__ import annotations

from sluice.copy.plan import Plan, plan_tables
from sluice.copy.refusals import Selection, Skipped
from sluice.core.schema import Column, ForeignKey, Table
from sluice.core.types import Kind, SqlType

INT = SqlType(Kind.INTEGER)


def child(ref_schema: str | None = None) -> Table:
    fk = ForeignKey("OrderLine", ("OrderId",), "Orders", ("OrderId",), None, ref_schema)
    return Table("OrderLine", (Column("Id", INT, False), Column("OrderId", INT)), ("Id",),
                 foreign_keys=(fk,))  # fmt: skip


def planned(tables, selection: Selection | None = None) -> Plan:
    stats = {t.key: (1, 9, 9) for t in tables}
    return plan_tables(tables, stats, "postgresql", "postgresql", "src", "dst",
                       selection=selection or Selection())  # fmt: skip


def test_a_key_to_a_table_left_out_is_kept_and_listed():
    plan = planned([child()])
    assert plan.foreign_keys == ()
    (fk,) = plan.outside_foreign_keys
    assert (fk.table, fk.ref_table, fk.ref_columns, fk.ref_schema) == (
        "OrderLine",
        "Orders",
        ("OrderId",),
        None,
    )
    (item,) = plan.not_carried
    assert item.kind == "foreign key" and item.key == "OrderLine.FK_OrderLine_OrderId"
    assert "created at finish if the target has Orders with a key on (OrderId)" in item.reason
    assert Plan.from_json(plan.to_json()) == plan


def test_the_referenced_end_lands_where_the_selection_puts_it():
    selection = Selection(schema_map=(("sales", "shop"),), identifiers="snake")
    plan = planned([child("sales")], selection)
    (fk,) = plan.outside_foreign_keys
    assert (fk.ref_schema, fk.ref_table, fk.ref_columns) == ("shop", "orders", ("order_id",))
    landed = plan.target_foreign_key(fk)  # the referring end in the target's style too
    assert (landed.table, landed.columns) == ("order_line", ("order_id",))


def test_a_table_refused_mid_copy_turns_the_keys_to_it_into_outside_keys():
    parent = Table("Orders", (Column("OrderId", INT, False),), ("OrderId",))
    plan = planned([parent, child()])
    assert len(plan.foreign_keys) == 1 and plan.outside_foreign_keys == ()
    left = plan.without([Skipped("Orders", "column 'x': refused")])
    assert left.foreign_keys == () and [t.name for t in left.tables] == ["OrderLine"]
    (fk,) = left.outside_foreign_keys
    assert (fk.table, fk.ref_table, fk.ref_columns) == ("OrderLine", "Orders", ("OrderId",))
    assert any("Orders is skipped" in n for n in left.notes)
