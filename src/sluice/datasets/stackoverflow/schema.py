"""The StackOverflow2010 schema, exactly as Brent Ozar's SQL Server database declares it.

Kept as data: one row per column with its SQL Server type, nullability and
identity flag. Every table has `Id int IDENTITY(1,1)` as its clustered primary
key (`PK_<Table>__Id`). The database declares no foreign keys; the logical ones
are listed in `FOREIGN_KEYS` for ordering and checks.

Two columns come from the public data dump rather than the 2010 database:
`Tags.IsModeratorOnly` and `Tags.IsRequired` (bit), documented in the dump's
Tags.xml; they are nullable so older dumps without them still import.

PostgreSQL and MySQL equivalents are derived through the neutral type
vocabulary (`sluice.core.types`) by each dialect; `tests/unit/test_stackoverflow_schema.py`
pins the rendered DDL so a mapping change cannot slip by.
"""

from __future__ import annotations

from sluice.core.schema import Column, ForeignKey, Table

# (column, SQL Server type, nullable). The first column of every table is Id int IDENTITY.
_COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "Badges": [
        ("Id", "int", False),
        ("Name", "nvarchar(40)", False),
        ("UserId", "int", False),
        ("Date", "datetime", False),
    ],
    "Comments": [
        ("Id", "int", False),
        ("CreationDate", "datetime", False),
        ("PostId", "int", False),
        ("Score", "int", True),
        ("Text", "nvarchar(700)", False),
        ("UserId", "int", True),
    ],
    "PostHistory": [
        ("Id", "int", False),
        ("PostHistoryTypeId", "int", False),
        ("PostId", "int", False),
        ("RevisionGUID", "uniqueidentifier", False),
        ("CreationDate", "datetime", False),
        ("UserId", "int", True),
        ("UserDisplayName", "nvarchar(40)", True),
        ("Comment", "nvarchar(max)", True),
        ("Text", "nvarchar(max)", True),
    ],
    "PostLinks": [
        ("Id", "int", False),
        ("CreationDate", "datetime", False),
        ("PostId", "int", False),
        ("RelatedPostId", "int", False),
        ("LinkTypeId", "int", False),
    ],
    "Posts": [
        ("Id", "int", False),
        ("AcceptedAnswerId", "int", True),
        ("AnswerCount", "int", True),
        ("Body", "nvarchar(max)", False),
        ("ClosedDate", "datetime", True),
        ("CommentCount", "int", True),
        ("CommunityOwnedDate", "datetime", True),
        ("CreationDate", "datetime", False),
        ("FavoriteCount", "int", True),
        ("LastActivityDate", "datetime", False),
        ("LastEditDate", "datetime", True),
        ("LastEditorDisplayName", "nvarchar(40)", True),
        ("LastEditorUserId", "int", True),
        ("OwnerUserId", "int", True),
        ("ParentId", "int", True),
        ("PostTypeId", "int", False),
        ("Score", "int", False),
        ("Tags", "nvarchar(150)", True),
        ("Title", "nvarchar(250)", True),
        ("ViewCount", "int", False),
    ],
    "Tags": [
        ("Id", "int", False),
        ("TagName", "nvarchar(150)", False),
        ("Count", "int", False),
        ("ExcerptPostId", "int", True),
        ("WikiPostId", "int", True),
        ("IsModeratorOnly", "bit", True),
        ("IsRequired", "bit", True),
    ],
    "Users": [
        ("Id", "int", False),
        ("AboutMe", "nvarchar(max)", True),
        ("Age", "int", True),
        ("CreationDate", "datetime", False),
        ("DisplayName", "nvarchar(40)", False),
        ("DownVotes", "int", False),
        ("EmailHash", "nvarchar(40)", True),
        ("LastAccessDate", "datetime", False),
        ("Location", "nvarchar(100)", True),
        ("Reputation", "int", False),
        ("UpVotes", "int", False),
        ("Views", "int", False),
        ("WebsiteUrl", "nvarchar(200)", True),
        ("AccountId", "int", True),
    ],
    "VoteTypes": [
        ("Id", "int", False),
        ("Name", "varchar(50)", False),
    ],
    "Votes": [
        ("Id", "int", False),
        ("PostId", "int", False),
        ("UserId", "int", True),
        ("BountyAmount", "int", True),
        ("VoteTypeId", "int", False),
        ("CreationDate", "datetime", False),
    ],
}

# Logical references (the real database declares none). Self references are kept too.
_REFERENCES: list[tuple[str, str, str]] = [
    ("Badges", "UserId", "Users"),
    ("Comments", "PostId", "Posts"),
    ("Comments", "UserId", "Users"),
    ("PostHistory", "PostId", "Posts"),
    ("PostHistory", "UserId", "Users"),
    ("PostLinks", "PostId", "Posts"),
    ("PostLinks", "RelatedPostId", "Posts"),
    ("Posts", "OwnerUserId", "Users"),
    ("Posts", "LastEditorUserId", "Users"),
    ("Posts", "ParentId", "Posts"),
    ("Posts", "AcceptedAnswerId", "Posts"),
    ("Tags", "ExcerptPostId", "Posts"),
    ("Tags", "WikiPostId", "Posts"),
    ("Votes", "PostId", "Posts"),
    ("Votes", "UserId", "Users"),
    ("Votes", "VoteTypeId", "VoteTypes"),
]

FOREIGN_KEYS: tuple[ForeignKey, ...] = tuple(
    ForeignKey(table, (column,), ref, ("Id",)) for table, column, ref in _REFERENCES
)

# The nine tables in alphabetical order, as the pipeline lists them.
TABLE_NAMES: tuple[str, ...] = tuple(sorted(_COLUMNS))

# Row counts of StackOverflow2010 that `scale=1.0` reproduces (~10.7M rows in all).
ROW_COUNTS: dict[str, int] = {
    "Badges": 190_000,
    "Comments": 1_300_000,
    "PostHistory": 2_800_000,
    "PostLinks": 100_000,
    "Posts": 1_700_000,
    "Tags": 13_000,
    "Users": 315_000,
    "VoteTypes": 15,
    "Votes": 4_300_000,
}

# SQL Server declarations, for the docs and for tests: (table, column) -> "nvarchar(40)".
MSSQL_TYPES: dict[tuple[str, str], str] = {
    (table, name): sqltype for table, cols in _COLUMNS.items() for name, sqltype, _ in cols
}


def _build() -> dict[str, Table]:
    from sluice.dialects.mssql import parse_type

    tables = {}
    for name, cols in _COLUMNS.items():
        columns = tuple(
            Column(col, parse_type(sqltype), nullable, identity=(col == "Id"))
            for col, sqltype, nullable in cols
        )
        fks = tuple(fk for fk in FOREIGN_KEYS if fk.table == name)
        tables[name] = Table(
            name, columns, primary_key=("Id",), foreign_keys=fks, primary_key_name=f"PK_{name}__Id"
        )
    return tables


TABLES: dict[str, Table] = _build()
