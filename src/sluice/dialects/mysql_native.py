"""MariaDB's (and MySQL's) own types on a target of the same engine (ADR 0013), and the
server-side digests verification uses between two such databases.

Each column's exact declaration is read from information_schema: COLUMN_TYPE (`bit(5)`,
`set('a','b')`, `bigint(20) unsigned`, `year(4)`, `inet6`), its character set and collation
where it has one, and a geometry column's SRID (`point REF_SYSTEM_ID=4326`, which SHOW
CREATE TABLE does not show). MariaDB's JSON is LONGTEXT utf8mb4_bin with a column CHECK
json_valid(): declared as `JSON`, which makes exactly that column again. The declaration is
rendered verbatim only by this engine's dialect; the GEOMETRY family is Kind.GEOMETRY (EWKB
bytes on the way: PostGIS's form on PostgreSQL); a type with no neutral kind (INET4, INET6)
is Kind.NATIVE, which other engines refuse by name.

Values: geometry is read as MariaDB's internal bytes (a 4-byte SRID, then WKB), decoded to
EWKB and written back as internal bytes, each value's own SRID included; everything else as
PyMySQL decodes it (the text protocol's forms are exact, FLOAT aside: read as DOUBLE).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from sluice.core.schema import Table
from sluice.core.types import Kind, SqlType

GEOMETRY = frozenset({
    "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
    "multipolygon", "geometrycollection",
})  # fmt: skip
# types no other engine has a neutral kind for
NATIVE_ONLY = GEOMETRY | {"inet4", "inet6"}
# compared by their bytes (HEX) in server digests; the others by their text (CAST AS CHAR)
_BYTES = GEOMETRY | {
    "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit", "char",
    "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set",
}  # fmt: skip

# MariaDB: column CHECKs are named after their column (LEVEL 'Column'); SRIDs per column
_MARIADB_SQL = """
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.CHARACTER_SET_NAME,
       c.COLLATION_NAME, k.CHECK_CLAUSE, g.SRID
FROM information_schema.COLUMNS c
LEFT JOIN information_schema.CHECK_CONSTRAINTS k
  ON k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
 AND k.LEVEL = 'Column' AND k.CONSTRAINT_NAME = c.COLUMN_NAME
LEFT JOIN information_schema.GEOMETRY_COLUMNS g
  ON g.G_TABLE_SCHEMA = c.TABLE_SCHEMA AND g.G_TABLE_NAME = c.TABLE_NAME
 AND g.G_GEOMETRY_COLUMN = c.COLUMN_NAME
WHERE c.TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND c.TABLE_NAME IN ({names})
"""
# MySQL has neither column-level CHECK rows nor GEOMETRY_COLUMNS
_MYSQL_SQL = """
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.CHARACTER_SET_NAME,
       c.COLLATION_NAME, NULL, NULL
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND c.TABLE_NAME IN ({names})
"""


def _declarations(cur: Any, schema: str | None, names: Sequence[str]) -> dict:
    """{(table, column): (ddl, declared, data type, json)} on a DB-API cursor."""
    marks = ", ".join(["%s"] * len(names))
    try:
        cur.execute(_MARIADB_SQL.format(names=marks), [schema, *names])
    except Exception:  # MySQL: no such columns or table
        cur.execute(_MYSQL_SQL.format(names=marks), [schema, *names])
    found = {}
    for table, column, data_type, column_type, charset, collation, check, srid in cur.fetchall():
        data_type = str(data_type).lower()
        declared = str(column_type)
        if charset:
            declared += f" CHARACTER SET {charset} COLLATE {collation}"
        if srid:
            declared += f" REF_SYSTEM_ID={int(srid)}"
        ddl = declared
        json = (
            check is not None
            and " ".join(str(check).split()) == f"json_valid(`{column.replace('`', '``')}`)"
            and data_type == "longtext"
            and (charset, collation) == ("utf8mb4", "utf8mb4_bin")
        )
        if json:  # MariaDB's JSON: exactly the column `JSON` declares
            ddl = "JSON"
        found[(table, column)] = (ddl, declared, data_type, json)
    return found


def native_columns(bind: Any, schema: str | None, names: Sequence[str]) -> dict:
    """{(table, column): (ddl, declared, data type, json)} for every column of `names`."""
    if not names:
        return {}
    raw = bind.raw_connection()
    try:
        cur = raw.cursor()
        found = _declarations(cur, schema, names)
        raw.rollback()
        return found
    finally:
        raw.close()


def declared_types(conn: Any, table: Table) -> dict[str, str]:
    """Column -> the declaration as the catalog spells it (a CHECK is no part of a type)."""
    cur = conn.cursor()
    found = {c: info[1] for (_, c), info in _declarations(cur, table.schema, [table.name]).items()}
    conn.rollback()
    return found


def with_native(engine: str, t: SqlType | None, info: Any) -> SqlType | None:
    """The reflected type with the column's own declaration attached: MariaDB's JSON as
    Kind.JSON, UUID as Kind.UUID, the geometry family as Kind.GEOMETRY, INET4/INET6 as
    Kind.NATIVE."""
    if info is None:
        return t
    ddl, _, data_type, json = info
    if json:
        t = SqlType(Kind.JSON)
    elif data_type == "uuid":
        t = SqlType(Kind.UUID)
    elif data_type in GEOMETRY:  # EWKB between engines; its own bytes on this one
        t = SqlType(Kind.GEOMETRY)
    elif data_type in NATIVE_ONLY or t is None:
        t = SqlType(Kind.NATIVE)
    return replace(t, native=ddl, engine=engine)


_MEMBER = re.compile(r"'((?:[^'\\]|''|\\.)*)'")


def enum_members(declared: str) -> tuple[str, ...]:
    """The members of `enum('x','it''s',...) CHARACTER SET ...`, in order, unquoted."""
    body = declared[declared.index("(") + 1 : declared.rindex(")")]
    return tuple(re.sub(r"\\(.)", r"\1", m.replace("''", "'")) for m in _MEMBER.findall(body))


def data_type(t: SqlType) -> str:
    """The declaration's type name (`bigint(20) unsigned` -> bigint), or ''."""
    if t.native is None:
        return ""
    if t.native == "JSON":
        return "longtext"
    return t.native.split("(")[0].split(" ")[0].lower()


_INTEGER_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32,
                 "bigint": 64}  # fmt: skip


class MysqlIntegers:
    """Mixed into MysqlDialect: the range of an integer column's own declaration."""

    name: str

    def integer_bounds(self, t: SqlType) -> tuple[int, int] | None:
        words = (t.native or "").lower().replace("(", " ").split() if t.engine == self.name else []
        if not words or words[0] not in _INTEGER_BITS:
            return None
        bits = _INTEGER_BITS[words[0]]
        if "unsigned" in words:
            return 0, 2**bits - 1
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


class MysqlDigests:
    """Mixed into MysqlDialect: row digests computed by the server between two databases of
    this engine whose catalogs declare every column identically (sluice.verify.run). Each
    column's part is its bytes in hex (strings, binaries, bits, geometry) or the server's
    text of it (numbers, dates and times, INET, UUID; FLOAT as the DOUBLE it holds), length
    prefixed, NULL as a mark no value has; a row hashes to the first 64 bits of an MD5."""

    def _text_sql(self, column) -> str:
        q = self.quote(column.name)
        kind = data_type(column.type)
        if kind in _BYTES:
            return f"HEX({q})"
        if kind == "float" or column.type.kind is Kind.REAL:
            return f"CAST(CAST({q} AS DOUBLE) AS CHAR)"
        return f"CAST({q} AS CHAR)"

    def _row_sql(self, table: Table) -> tuple[str, list[str]]:
        parts = [self._text_sql(c) for c in table.columns]
        marked = [f"IFNULL(CONCAT(LENGTH({p}), ':', {p}), '~')" for p in parts]
        return _hash64(f"CONCAT_WS('|', {', '.join(marked)})"), [_hash64(p) for p in parts]

    def range_digest_sql(self, table: Table, lo: Any, hi: Any) -> tuple[list[str], str, list]:
        row, _ = self._row_sql(table)
        where, params = self.read_predicate(table, lo, hi)
        sql = f"SELECT COUNT(*), CAST(COALESCE(SUM({row}), 0) AS CHAR) FROM " \
              f"{self.qualified(table)}{where}"  # fmt: skip
        return [], self.finalize(sql), params

    def row_digests(self, conn: Any, table: Table, lo: Any, hi: Any) -> Iterator[tuple]:
        """(key..., row hash, column hashes...) per row in key order, unbuffered; a NULL
        column's hash is NULL, so NULL and '' differ."""
        from pymysql.cursors import SSCursor

        row, per_column = self._row_sql(table)
        keys = ", ".join(self.quote(k) for k in table.primary_key)
        where, params = self.read_predicate(table, lo, hi)
        sql = self.finalize(f"SELECT {keys}, {row}, {', '.join(per_column)} FROM "
                            f"{self.qualified(table)}{where} ORDER BY {keys}")  # fmt: skip
        cur = conn.cursor(SSCursor)
        try:
            cur.execute(sql, self.bind(params))
            while batch := cur.fetchmany(5_000):
                yield from batch
        finally:
            cur.close()

    def declared_types(self, conn: Any, table: Table) -> dict[str, str] | None:
        return declared_types(conn, table)


def _hash64(text_sql: str) -> str:
    return f"CAST(CONV(LEFT(MD5({text_sql}), 16), 16, 10) AS UNSIGNED)"
