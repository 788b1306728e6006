"""What every engine shares when a table's definition crosses engines (issue 26): a neutral
default's constant as a literal of the column's type, and an SQL expression (a CHECK, an
expression default) moved from the source engine's SQL to the target's with sqlglot.

A translation is made only where its meaning is certain: an expression is parsed into
sqlglot's tree, and every node must be one of a small set whose meaning is the same on every
engine (columns, constants, comparisons, AND/OR/NOT, arithmetic, IN, BETWEEN, IS NULL).
Anything else (a function, LIKE, a cast sqlglot keeps, a subquery) is not translated: the
caller returns None and the plan lists the item as not carried, with the source's text.
Comparisons of text follow each column's collation, which the copy maps by case
sensitivity (docs/definitions-across-engines.md)."""

from __future__ import annotations

import re

from sluice.core.types import Kind

# sluice's engine names -> sqlglot's dialect names
SQLGLOT = {"mysql": "mysql", "postgresql": "postgres", "mssql": "tsql", "sqlite": "sqlite"}

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
NUMERIC_KINDS = frozenset({
    Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL, Kind.MONEY,
    Kind.REAL, Kind.DOUBLE,
})  # fmt: skip
INTEGER_KINDS = frozenset({Kind.TINYINT, Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT})
QUOTED_KINDS = frozenset({
    Kind.STRING, Kind.DATE, Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME, Kind.TIME_TZ,
    Kind.UUID, Kind.JSON, Kind.XML,
})  # fmt: skip
TEXT_KINDS = frozenset({Kind.STRING})  # the kinds a collation applies to
MOMENT_KINDS = frozenset({Kind.DATE, Kind.DATETIME, Kind.DATETIME_TZ, Kind.TIME, Kind.TIME_TZ})
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "on", "b'1'"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "off", "b'0'"})


def boolean_of(value: str) -> bool | None:
    """A neutral LITERAL's truth value (MySQL's 1/0, PostgreSQL's true/false), else None."""
    word = value.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def literal_sql(value: str, kind: Kind, quote: str = "'", backslash: bool = False) -> str | None:
    """A neutral LITERAL's `value` (unquoted text) as a constant of a column of `kind`:
    numbers as they are (when they are numbers), text and moments quoted (`quote` opens the
    string: "'" or T-SQL's "N'"; `backslash`: the engine reads \\ as an escape, so it is
    doubled). None where the value cannot be such a constant (a zero date on an engine
    without one, text in a numeric column, bytes, bits)."""
    if kind in NUMERIC_KINDS:
        text = value.strip()
        if not NUMBER.fullmatch(text) or (
            kind in INTEGER_KINDS and not text.lstrip("+-").isdigit()
        ):
            return None
        return text
    if kind in QUOTED_KINDS:
        if kind in MOMENT_KINDS and value.startswith("0000-00-00"):
            return None  # MySQL's zero date: no other engine has it
        body = value.replace("'", "''")
        if backslash:
            body = body.replace("\\", "\\\\")
        return f"{quote}{body}'"
    return None


def unwrap(text: str) -> str:
    """`((0))` -> `0`: the parentheses around a whole expression (SQL Server keeps a
    default in two, MySQL 8 an expression default in one), all of them."""
    t = text.strip()
    while t.startswith("(") and t.endswith(")") and _balanced(t[1:-1]):
        t = t[1:-1].strip()
    return t


def _balanced(inner: str) -> bool:
    depth, quoted = 0, False
    for ch in inner:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


# sqlglot node classes whose meaning is the same on every engine this module serves
_SAFE = (
    "Column", "Identifier", "Literal", "Null", "Boolean", "Paren", "Neg", "Not", "And", "Or",
    "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "Is", "In", "Between", "Add", "Sub", "Mul",
    "Tuple",
)  # fmt: skip


def translate_expression(sql: str, source: str, target: str, strict_booleans: bool = False
                         ) -> str | None:  # fmt: skip
    """`sql` (an expression in `source`'s SQL) in `target`'s SQL, identifiers quoted; None
    when it does not parse, uses anything outside the safe set, or sqlglot reports that the
    target cannot express it. `strict_booleans`: the target's booleans are no numbers (a
    MySQL tinyint(1) or SQL Server bit lands as PostgreSQL's boolean): a column compared
    for equality with only 0 and 1 may be one, and `boolean = 1` would make the target
    refuse the table, so such an expression is not translated either."""
    if source not in SQLGLOT or target not in SQLGLOT:
        return None
    try:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ErrorLevel, SqlglotError
    except ImportError:  # pragma: no cover - sqlglot is a dependency
        return None
    safe = tuple(getattr(exp, name) for name in _SAFE)
    try:
        tree = sqlglot.parse_one(sql, read=SQLGLOT[source], error_level=ErrorLevel.RAISE)
        for _ in range(3):  # a replaced node's children are visited on the next pass
            tree = tree.transform(_plain)
        for node in tree.walk():
            if not isinstance(node, safe):
                return None
            if isinstance(node, exp.Literal) and node.is_string and "\\" in node.this:
                return None  # MySQL's escapes in a string: the text itself is not certain
            if strict_booleans and _zero_one(node):
                return None
            if target == "mssql" and isinstance(node, exp.Column) and _predicate(node):
                return None  # T-SQL has no boolean columns: `CHECK ([active])` is refused
        return tree.sql(dialect=SQLGLOT[target], identify=True,
                        unsupported_level=ErrorLevel.RAISE)  # fmt: skip
    except (SqlglotError, RecursionError, ValueError):
        return None


_TEXT_TYPES = ("TEXT", "VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "BPCHAR")
_NUMBER_TYPES = ("INT", "SMALLINT", "BIGINT", "TINYINT", "DECIMAL", "DOUBLE", "FLOAT")


def _bare(node):
    while type(node).__name__ == "Paren":
        node = node.this
    return node


def _plain(node):
    """PostgreSQL's catalog spelling of a CHECK, undone where it means nothing more: a cast
    of a constant to a number or text type (`(0)::numeric`, `'a'::character varying`), a
    column's cast to text, `x = ANY (ARRAY[...])` (how PostgreSQL keeps `x IN (...)`)."""
    from sqlglot import exp

    if isinstance(node, exp.Cast):
        inner, to = _bare(node.this), node.to.this.name
        if isinstance(inner, exp.Literal) and (
            (to in _NUMBER_TYPES and not inner.is_string) or (to in _TEXT_TYPES and inner.is_string)
        ):
            return inner
        if isinstance(inner, exp.Column) and to in _TEXT_TYPES:
            return inner
        return node
    if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
        arr = _bare(node.expression.this)
        if isinstance(arr, exp.Cast) and arr.to.this.name == "ARRAY":
            arr = _bare(arr.this)
        if isinstance(arr, exp.Array):
            items = [_plain(_bare(e)) for e in arr.expressions]
            return exp.In(this=node.this, expressions=items)
    return node


def _zero_one(node) -> bool:
    """`x = 0`, `x <> 1`, `x IN (0, 1)`: an equality of something with only 0 and 1."""
    from sqlglot import exp

    if isinstance(node, (exp.EQ, exp.NEQ)):
        values = [node.this, node.expression]
    elif isinstance(node, exp.In):
        values = list(node.expressions)
    else:
        return False
    numbers = [_bare(v) for v in values if isinstance(_bare(v), exp.Literal)]
    return bool(numbers) and all(not n.is_string and n.this in ("0", "1") for n in numbers)


def _predicate(node) -> bool:
    """Whether `node` stands where a condition does (the whole expression, or an operand of
    AND, OR, NOT), parentheses aside."""
    from sqlglot import exp

    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    return parent is None or isinstance(parent, (exp.And, exp.Or, exp.Not))
