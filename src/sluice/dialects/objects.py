"""The `Dialect` methods for views and standalone sequences (issue 24): listing them on a
source, and making them on a target of the same engine. The catalog queries are data in
each engine's `*_objects` module; an engine without them (no views, no sequences) lists
none. Statements are built here from the engine's quoting and its templates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sluice.core.objects import SequenceDef, View


class Objects:
    """Mixed into `Dialect`. An engine sets the queries it has and, where its DDL differs
    from the templates below, overrides the methods."""

    # rows (schema, name, definition): every user view of the database
    views_query: str | None = None
    # rows (view schema, view name, referenced schema, referenced name)
    view_references_query: str | None = None
    # rows (schema, name, type, start, increment, min, max, cycle, last value, is_called) of
    # the sequences no column owns (an identity's or a serial's are the table's business)
    sequences_query: str | None = None
    create_view_form = "CREATE OR REPLACE VIEW {name} AS {definition}"
    drop_view_form = "DROP VIEW IF EXISTS {name}"

    def quote(self, ident: str) -> str:  # Dialect's
        raise NotImplementedError

    def qualified(self, table: Any, schema: str | None = None) -> str:  # Dialect's
        raise NotImplementedError

    def list_views(self, conn: Any) -> list[View]:
        """The database's views, each with the relations it reads where the engine tells."""
        if self.views_query is None:
            return []
        cur = conn.cursor()
        cur.execute(self.views_query)
        views = [View(s, n, self.view_definition(s, n, d)) for s, n, d in cur.fetchall()]
        refs: dict[tuple, list[str]] = {}
        if self.view_references_query is not None:
            cur.execute(self.view_references_query)
            for vs, vn, rs, rn in cur.fetchall():  # a catalog list, never table data
                refs.setdefault((vs, vn), []).append(f"{rs}.{rn}" if rs else rn)
        conn.rollback()
        out = []
        for v in views:
            v = replace(v, references=tuple(refs.get((v.schema, v.name), ())))
            out.append(replace(v, ddl=self.view_ddl(v)))
        return out

    def view_definition(self, schema: str | None, name: str, text: str) -> str:
        """The definition as the catalog gave it, made independent of the source database
        where the engine writes its name into it (MariaDB)."""
        return (text or "").strip().rstrip(";")

    def list_sequences(self, conn: Any) -> list[SequenceDef]:
        """The database's standalone sequences, each with its options and current value."""
        if self.sequences_query is None:
            return []
        cur = conn.cursor()
        cur.execute(self.sequences_query)
        rows = cur.fetchall()  # a catalog list, never table data
        out = []
        for s, n, typ, start, inc, lo, hi, cycle, last, called in rows:
            seq = SequenceDef(
                s,
                n,
                str(typ),
                int(start),
                int(inc),
                int(lo),
                int(hi),
                bool(cycle),
                None if last is None else int(last),
                bool(called),
            )
            seq = self.sequence_state(conn, seq)
            out.append(replace(seq, ddl=self.sequence_ddl(seq)))
        conn.rollback()
        return out

    def sequence_state(self, conn: Any, seq: SequenceDef) -> SequenceDef:
        """`seq` with its last value and whether it was handed out, where the catalog query
        cannot say (PostgreSQL keeps them in the sequence relation itself)."""
        return seq

    def view_ddl(self, view: View, schema: str | None = None) -> str:
        """The statement that makes `view` in `schema` (its own by default)."""
        name = self.qualified(view.name, view.schema if schema is None else schema)
        return self.create_view_form.format(name=name, definition=view.definition)

    def create_view_sql(self, view: View, schema: str | None) -> list[str]:
        return [self.view_ddl(view, schema)]

    def drop_view_sql(self, view: View, schema: str | None) -> list[str]:
        name = self.qualified(view.name, view.schema if schema is None else schema)
        return [self.drop_view_form.format(name=name)]

    def sequence_ddl(self, seq: SequenceDef, schema: str | None = None) -> str:
        """CREATE SEQUENCE with the source's options (type, start, step, bounds, cycle)."""
        name = self.qualified(seq.name, seq.schema if schema is None else schema)
        cycle = "CYCLE" if seq.cycle else "NO CYCLE"
        return (f"CREATE SEQUENCE {name} AS {seq.data_type} START WITH {seq.start} "
                f"INCREMENT BY {seq.increment} MINVALUE {seq.minimum} MAXVALUE {seq.maximum} "
                f"{cycle}")  # fmt: skip

    def create_sequence_sql(self, seq: SequenceDef, schema: str | None) -> list[str]:
        """Statements making `seq` in `schema` (or bringing an existing one to the source's
        options) and setting its value, so the next value equals the source's."""
        raise NotImplementedError(f"{type(self).__name__} cannot create sequences")

    def sequence_next_values(self, conn: Any) -> dict[tuple, int]:
        """(schema, name) -> the next value of each standalone sequence, for verify."""
        return {(s.schema, s.name): s.next_value for s in self.list_sequences(conn)}
