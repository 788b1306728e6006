"""MariaDB's (and MySQL's) views and MariaDB's sequences (10.3+), for issue 24. A schema is
a database there, so only the URL's database is listed. information_schema.VIEWS prints
every table with its database's name, which would tie a copied view to the source database
on the same server: that qualifier is taken out (`view_definition`). MariaDB keeps a
sequence's values in a one-row table: its next value is `next_not_cached_value` (exact with
NOCACHE; with a cache, the value a restarted server would hand out next)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sluice.core.objects import SequenceDef
from sluice.dialects.mysql_not_carried import MysqlNotCarried

VIEWS = (
    "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
    "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
)
# the options come from the sequence's own row (`sequence_state`)
SEQUENCES = (
    "SELECT TABLE_SCHEMA, TABLE_NAME, 'bigint', 1, 1, 1, 1, 0, NULL, 0 "
    "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
    "AND TABLE_TYPE = 'SEQUENCE' ORDER BY TABLE_NAME"
)


class MysqlObjects(MysqlNotCarried):
    """Mixed into the MySQL dialect (before `Dialect`: it uses its quoting); with what a
    copy does not create (mysql_not_carried)."""

    views_query = VIEWS
    sequences_query = SEQUENCES

    def view_definition(self, schema: str | None, name: str, text: str) -> str:
        text = (text or "").strip().rstrip(";")
        return text.replace(f"{self.quote(schema)}.", "") if schema else text

    def view_ddl(self, view, schema: str | None = None) -> str:
        # MySQL has no schemas of its own in a database: the view lands in the URL's
        return f"CREATE OR REPLACE VIEW {self.quote(view.name)} AS {view.definition}"

    def drop_view_sql(self, view, schema: str | None) -> list[str]:
        return [f"DROP VIEW IF EXISTS {self.quote(view.name)}"]

    def sequence_state(self, conn: Any, seq: SequenceDef) -> SequenceDef:
        cur = conn.cursor()
        cur.execute("SELECT start_value, increment, minimum_value, maximum_value, "
                    f"cycle_option, next_not_cached_value FROM {self.quote(seq.name)}")  # fmt: skip
        start, inc, lo, hi, cycle, following = cur.fetchone()
        return replace(seq, start=int(start), increment=int(inc), minimum=int(lo),
                       maximum=int(hi), cycle=bool(cycle), last_value=int(following),
                       is_called=False)  # fmt: skip

    def sequence_ddl(self, seq: SequenceDef, schema: str | None = None) -> str:
        cycle = "CYCLE" if seq.cycle else "NOCYCLE"
        return (f"CREATE SEQUENCE {self.quote(seq.name)} START WITH {seq.start} "
                f"INCREMENT BY {seq.increment} MINVALUE {seq.minimum} MAXVALUE {seq.maximum} "
                f"{cycle}")  # fmt: skip

    def create_sequence_sql(self, seq: SequenceDef, schema: str | None) -> list[str]:
        name = self.quote(seq.name)
        value = seq.start if seq.last_value is None else seq.last_value
        return [
            f"DROP SEQUENCE IF EXISTS {name}",
            self.sequence_ddl(seq) + " NOCACHE",
            f"SELECT SETVAL({name}, {value}, {int(seq.is_called)})",
        ]
