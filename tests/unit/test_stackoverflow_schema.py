"""The StackOverflow2010 schema as data, checked against the documented SQL Server DDL."""

from __future__ import annotations

import re

import pytest

from sluice.core.schema import order_by_references
from sluice.datasets.stackoverflow import FOREIGN_KEYS, TABLE_NAMES, TABLES
from sluice.dialects import get_dialect

# Brent Ozar's StackOverflow2010 (all Ids are `int IDENTITY(1,1) NOT NULL` with a clustered
# primary key). Written out independently of schema.py so that a slip in either shows up.
DOCUMENTED = """
Badges: Id int NOT NULL, Name nvarchar(40) NOT NULL, UserId int NOT NULL, Date datetime NOT NULL
Comments: Id int NOT NULL, CreationDate datetime NOT NULL, PostId int NOT NULL, Score int NULL,
  Text nvarchar(700) NOT NULL, UserId int NULL
PostHistory: Id int NOT NULL, PostHistoryTypeId int NOT NULL, PostId int NOT NULL,
  RevisionGUID uniqueidentifier NOT NULL, CreationDate datetime NOT NULL, UserId int NULL,
  UserDisplayName nvarchar(40) NULL, Comment nvarchar(max) NULL, Text nvarchar(max) NULL
PostLinks: Id int NOT NULL, CreationDate datetime NOT NULL, PostId int NOT NULL,
  RelatedPostId int NOT NULL, LinkTypeId int NOT NULL
Posts: Id int NOT NULL, AcceptedAnswerId int NULL, AnswerCount int NULL,
  Body nvarchar(max) NOT NULL,
  ClosedDate datetime NULL, CommentCount int NULL, CommunityOwnedDate datetime NULL,
  CreationDate datetime NOT NULL, FavoriteCount int NULL, LastActivityDate datetime NOT NULL,
  LastEditDate datetime NULL, LastEditorDisplayName nvarchar(40) NULL, LastEditorUserId int NULL,
  OwnerUserId int NULL, ParentId int NULL, PostTypeId int NOT NULL, Score int NOT NULL,
  Tags nvarchar(150) NULL, Title nvarchar(250) NULL, ViewCount int NOT NULL
Tags: Id int NOT NULL, TagName nvarchar(150) NOT NULL, Count int NOT NULL, ExcerptPostId int NULL,
  WikiPostId int NULL, IsModeratorOnly bit NULL, IsRequired bit NULL
Users: Id int NOT NULL, AboutMe nvarchar(max) NULL, Age int NULL, CreationDate datetime NOT NULL,
  DisplayName nvarchar(40) NOT NULL, DownVotes int NOT NULL, EmailHash nvarchar(40) NULL,
  LastAccessDate datetime NOT NULL, Location nvarchar(100) NULL, Reputation int NOT NULL,
  UpVotes int NOT NULL, Views int NOT NULL, WebsiteUrl nvarchar(200) NULL, AccountId int NULL
VoteTypes: Id int NOT NULL, Name varchar(50) NOT NULL
Votes: Id int NOT NULL, PostId int NOT NULL, UserId int NULL, BountyAmount int NULL,
  VoteTypeId int NOT NULL, CreationDate datetime NOT NULL
"""


def documented() -> dict[str, list[tuple[str, str, bool]]]:
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for block in re.split(r"\n(?=\w+:)", DOCUMENTED.strip()):
        name, body = block.split(":", 1)
        cols = []
        for part in re.split(r",\s*(?![^()]*\))", " ".join(body.split())):
            col, sqltype, *null = part.split()
            cols.append((col, sqltype, null == ["NULL"]))
        tables[name] = cols
    return tables


def test_nine_tables_with_the_documented_columns():
    assert sorted(TABLES) == sorted(documented()) == list(TABLE_NAMES)
    assert len(TABLES) == 9
    mssql = get_dialect("mssql")
    for name, cols in documented().items():
        table = TABLES[name]
        got = [(c.name, mssql.render_type(c.type), c.nullable) for c in table.columns]
        assert got == cols, name
        assert table.primary_key == ("Id",)
        assert table.identity is not None and table.identity.name == "Id"


def test_sql_server_ddl_keeps_identity_and_clustered_key():
    ddl = get_dialect("mssql").create_table_sql(TABLES["Votes"])[0]
    assert "[Id] int IDENTITY(1,1) NOT NULL" in ddl
    assert "CONSTRAINT [PK_Votes__Id] PRIMARY KEY CLUSTERED ([Id])" in ddl


POSTGRES_POSTHISTORY = """CREATE TABLE "PostHistory" (
  "Id" INTEGER GENERATED ALWAYS AS IDENTITY NOT NULL,
  "PostHistoryTypeId" INTEGER NOT NULL,
  "PostId" INTEGER NOT NULL,
  "RevisionGUID" UUID NOT NULL,
  "CreationDate" TIMESTAMP NOT NULL,
  "UserId" INTEGER NULL,
  "UserDisplayName" VARCHAR(40) NULL,
  "Comment" TEXT NULL,
  "Text" TEXT NULL,
  CONSTRAINT "PK_PostHistory__Id" PRIMARY KEY ("Id")
)"""

MYSQL_TAGS = """CREATE TABLE `Tags` (
  `Id` INT AUTO_INCREMENT NOT NULL,
  `TagName` VARCHAR(150) NOT NULL,
  `Count` INT NOT NULL,
  `ExcerptPostId` INT NULL,
  `WikiPostId` INT NULL,
  `IsModeratorOnly` TINYINT(1) NULL,
  `IsRequired` TINYINT(1) NULL,
  CONSTRAINT `PK_Tags__Id` PRIMARY KEY (`Id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"""


def test_postgres_and_mysql_equivalents_are_pinned():
    assert get_dialect("postgresql").create_table_sql(TABLES["PostHistory"]) == [
        POSTGRES_POSTHISTORY
    ]
    assert get_dialect("mysql").create_table_sql(TABLES["Tags"]) == [MYSQL_TAGS]


@pytest.mark.parametrize(
    ("mssql", "postgres", "mysql"),
    [
        ("nvarchar(max)", "TEXT", "LONGTEXT"),
        ("nvarchar(40)", "VARCHAR(40)", "VARCHAR(40)"),
        ("varchar(50)", "VARCHAR(50)", "VARCHAR(50)"),
        ("datetime", "TIMESTAMP", "DATETIME(6)"),
        ("bit", "BOOLEAN", "TINYINT(1)"),
        ("int", "INTEGER", "INT"),
        ("uniqueidentifier", "UUID", "CHAR(36) CHARACTER SET ascii"),
    ],
)
def test_type_equivalents(mssql, postgres, mysql):
    from sluice.dialects.mssql import parse_type

    t = parse_type(mssql)
    assert get_dialect("postgresql").render_type(t) == postgres
    assert get_dialect("mysql").render_type(t) == mysql
    assert get_dialect("mssql").render_type(t) == mssql


def test_logical_foreign_keys_point_at_real_columns_and_order_tables():
    assert len(FOREIGN_KEYS) >= 10
    for fk in FOREIGN_KEYS:
        TABLES[fk.table].column(fk.columns[0])
        TABLES[fk.ref_table].column(fk.ref_columns[0])
    names = [t.name for t in order_by_references(list(TABLES.values()), FOREIGN_KEYS)]
    assert names.index("Users") < names.index("Posts") < names.index("Votes")
    assert names.index("VoteTypes") < names.index("Votes")
    assert names.index("Posts") < names.index("Comments")


def test_cycles_do_not_hang_ordering():
    from sluice.core.schema import ForeignKey

    a, b = TABLES["Users"], TABLES["Posts"]
    fks = [ForeignKey("Users", ("AccountId",), "Posts", ("Id",)), *FOREIGN_KEYS]
    assert {t.name for t in order_by_references([a, b], fks)} == {"Users", "Posts"}
