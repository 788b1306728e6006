"""What a statement in the binlog (a QUERY event) does to captured tables: in row format
only DDL, TRUNCATE and transaction control travel as statements; a DML statement there was
written by a session whose binlog_format is not ROW, and its rows cannot be read."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"(?:`(?:[^`]|``)+`|[\w$]+)"
_QNAME = rf"{_NAME}(?:\s*\.\s*{_NAME})?"
_COMMENTS = re.compile(r"^\s*(?:/\*.*?\*/\s*|#[^\n]*\n\s*|--\s[^\n]*\n\s*)*", re.S)
_HEADS = {
    "truncate": re.compile(rf"TRUNCATE\s+(?:TABLE\s+)?({_QNAME})", re.I),
    "drop": re.compile(r"DROP\s+(?:TEMPORARY\s+)?TABLES?\s+(?:IF\s+EXISTS\s+)?(.*)", re.I | re.S),
    "rename": re.compile(r"RENAME\s+TABLES?\s+(.*)", re.I | re.S),
    "alter": re.compile(
        rf"ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+({_QNAME})(.*)", re.I | re.S
    ),  # fmt: skip
    "dml": re.compile(
        rf"(?:INSERT|REPLACE)(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*"
        rf"\s+(?:INTO\s+)?({_QNAME})|UPDATE\s+(?:LOW_PRIORITY\s+)?(?:IGNORE\s+)?"
        rf"({_QNAME})|DELETE\s+(?:LOW_PRIORITY\s+)?(?:QUICK\s+)?(?:IGNORE\s+)?"
        rf"FROM\s+({_QNAME})",
        re.I,
    ),  # fmt: skip
}
_NAMES = re.compile(_QNAME)
_KEY_CHANGE = re.compile(r"\bPRIMARY\s+KEY\b|\bRENAME\s+(?:TO|AS)\b|\bRENAME\s+(?!COLUMN|INDEX|KEY)"
                         r"(?=\S)", re.I)  # fmt: skip
_COLUMN_CHANGE = re.compile(
    rf"\b(?:DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?({_NAME})|CHANGE\s+(?:COLUMN\s+)?"
    rf"(?:IF\s+EXISTS\s+)?({_NAME})\s+({_NAME})|RENAME\s+COLUMN\s+({_NAME})\s+TO\s+({_NAME}))",
    re.I,
)


@dataclass(frozen=True)
class Statement:
    """`kind`: "truncate", "drop", "rename", "alter", "dml" or "" (anything else);
    `tables`: (schema or None, name) of the tables it names; `columns_renamed`: the
    (old, new) column names an ALTER drops (new: None) or renames; `key_clause`: the ALTER
    adds or drops a primary key, or renames the table."""

    kind: str
    tables: tuple[tuple[str | None, str], ...] = ()
    columns_renamed: tuple[tuple[str, str | None], ...] = ()
    key_clause: bool = False


def _unquote(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def _split(qname: str) -> tuple[str | None, str]:
    parts = [_unquote(p.strip()) for p in re.findall(_NAME, qname)]
    return (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def statement(query: str) -> Statement:
    text = _COMMENTS.sub("", query, count=1)
    for kind, pattern in _HEADS.items():
        m = pattern.match(text)
        if not m:
            continue
        if kind in ("truncate", "dml"):
            return Statement(kind, (_split(next(g for g in m.groups() if g)),))
        if kind == "drop":
            body = re.split(r"\b(?:RESTRICT|CASCADE)\b|/\*", m.group(1), maxsplit=1)[0]
            names = [_split(n.group(0)) for n in re.finditer(rf"{_QNAME}", body)]
            return Statement(kind, tuple(names))
        if kind == "rename":  # a TO b, c TO d: the old names are gone
            pairs = re.split(r",", m.group(1))
            olds = [_split(re.split(r"\s+TO\s+", p.strip(), flags=re.I)[0]) for p in pairs]
            return Statement(kind, tuple(olds))
        rest = m.group(2)
        renamed = []
        for c in _COLUMN_CHANGE.finditer(rest):
            if c.group(1):
                renamed.append((_unquote(c.group(1)), None))
            elif c.group(2):
                renamed.append((_unquote(c.group(2)), _unquote(c.group(3))))
            else:
                renamed.append((_unquote(c.group(4)), _unquote(c.group(5))))
        return Statement("alter", (_split(m.group(1)),), tuple(renamed),
                         bool(_KEY_CHANGE.search(rest)))  # fmt: skip
    return Statement("")
