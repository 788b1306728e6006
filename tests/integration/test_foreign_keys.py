"""Declared foreign keys: they order the copy, are created after the data, survive reruns
(replacing a referenced table), and orphans are counted rather than failing the run."""

from __future__ import annotations

from sluice.copy import CopyOptions, copy_database
from sluice.dialects import get_dialect

SOURCE = """
CREATE TABLE "Child" ("id" int PRIMARY KEY, "parent_id" int, "note" text);
CREATE TABLE "Parent" ("id" int PRIMARY KEY, "name" text,
                       "best_child" int);
INSERT INTO "Parent" VALUES (1, 'one', 10), (2, 'two', NULL);
INSERT INTO "Child" VALUES (10, 1, 'a'), (11, 2, 'b'), (12, NULL, 'c'), (13, 99, 'orphan');
ALTER TABLE "Child" ADD CONSTRAINT "fk_child_parent"
    FOREIGN KEY ("parent_id") REFERENCES "Parent" ("id") NOT VALID;
ALTER TABLE "Parent" ADD CONSTRAINT "fk_parent_best"
    FOREIGN KEY ("best_child") REFERENCES "Child" ("id");
"""


def constraints(url) -> dict[str, bool]:
    d = get_dialect("postgresql")
    with d.connect(url) as conn:
        rows = conn.execute(
            "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' ORDER BY 1"
        ).fetchall()
    return dict(rows)


def test_foreign_keys_after_data_with_orphans_and_a_cycle(pg_db, pg_server):
    from tests.conftest import _fresh

    d = get_dialect("postgresql")
    with d.connect(pg_db) as conn:
        conn.execute(SOURCE)
    gen = _fresh(pg_server, "sluice_test")
    target = next(gen)
    try:
        result = copy_database(pg_db, target, CopyOptions())
        assert result.ok, result.failures
        names = [t.name for t in result.plan.tables]
        assert sorted(names) == ["Child", "Parent"]  # a cycle: both copied, in some order
        orphans = result.finish.orphans  # each key named as the source names it (issue 26)
        assert orphans == {"fk_child_parent": 1, "fk_parent_best": 0}
        assert constraints(target) == {"fk_child_parent": False, "fk_parent_best": True}
        # a rerun replaces both tables although keys point at them, and adds the keys again
        again = copy_database(pg_db, target, CopyOptions())
        assert again.ok, again.failures
        assert constraints(target) == {"fk_child_parent": False, "fk_parent_best": True}
        with d.connect(target) as conn:
            assert conn.execute('SELECT count(*) FROM "Child"').fetchone()[0] == 4
    finally:
        next(gen, None)
