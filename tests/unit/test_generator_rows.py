"""The generator without a database: counts, determinism, shapes, referential consistency."""

from __future__ import annotations

import hashlib
import math
import statistics
from datetime import datetime

import pytest

from sluice.core.errors import ConfigError
from sluice.core.types import Kind
from sluice.datasets.stackoverflow import FOREIGN_KEYS, ROW_COUNTS, TABLES
from sluice.datasets.stackoverflow.generate import END, START, Generator, row_counts


def digest(gen: Generator, table: str) -> str:
    h = hashlib.sha256()
    for row in gen.rows(table):
        h.update(repr(row).encode())
    return h.hexdigest()


def test_scale_one_is_stackoverflow2010():
    counts = row_counts(1.0)
    assert counts == ROW_COUNTS
    assert 10_600_000 < sum(counts.values()) < 10_800_000
    assert counts["VoteTypes"] == 15


@pytest.mark.parametrize("scale", [0.01, 0.001])
def test_counts_scale_linearly(scale):
    counts = row_counts(scale)
    for name, n in ROW_COUNTS.items():
        if name != "VoteTypes":
            assert counts[name] == max(1, round(n * scale))
    gen = Generator(scale)
    assert sum(1 for _ in gen.rows("Votes")) == counts["Votes"]


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, 1000])
def test_bad_scale_is_a_clear_error(bad):
    with pytest.raises(ConfigError, match="scale"):
        row_counts(bad)


def test_same_seed_same_rows_other_seed_other_rows():
    a, b, c = Generator(0.001, seed=7), Generator(0.001, seed=7), Generator(0.001, seed=8)
    for table in ("Posts", "PostHistory", "Users", "Votes"):
        assert digest(a, table) == digest(b, table)
        assert digest(a, table) != digest(c, table)


@pytest.fixture(scope="module")
def rows() -> dict[str, list[tuple]]:
    gen = Generator(0.003)
    return {name: list(gen.rows(name)) for name in TABLES}


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def test_values_fit_their_columns(rows):
    for name, table in TABLES.items():
        for row in rows[name]:
            assert len(row) == len(table.columns)
            for col, value in zip(table.columns, row):
                if value is None:
                    assert col.nullable, f"{name}.{col.name} is NOT NULL"
                    continue
                if col.type.kind is Kind.STRING and col.type.length is not None:
                    assert utf16_len(value) <= col.type.length, (name, col.name, value)
                if col.type.kind is Kind.DATETIME:
                    assert START <= value <= END, (name, col.name, value)
                    assert value.microsecond % 1000 == 0


def test_keys_are_unique_with_gaps(rows):
    for name in TABLES:
        ids = [r[0] for r in rows[name]]
        assert len(ids) == len(set(ids)), name
    post_ids = [r[0] for r in rows["Posts"]]
    assert post_ids == sorted(post_ids) and post_ids[-1] > len(post_ids)  # gaps, like the real data
    assert rows["Users"][0][0] == -1 and rows["Users"][0][4] == "Community"


def test_references_point_at_existing_rows(rows):
    keys = {name: {r[0] for r in rows[name]} for name in TABLES}
    for fk in FOREIGN_KEYS:
        idx = TABLES[fk.table].column_names.index(fk.columns[0])
        values = {r[idx] for r in rows[fk.table]} - {None}
        missing = values - keys[fk.ref_table]
        assert not missing, f"{fk.table}.{fk.columns[0]} -> {fk.ref_table}: {sorted(missing)[:5]}"


def test_answers_follow_their_question_and_owners_registered_first(rows):
    cols = TABLES["Posts"].column_names
    by_id = {r[0]: r for r in rows["Posts"]}
    users = {r[0]: r[3] for r in rows["Users"]}
    for r in rows["Posts"]:
        post = dict(zip(cols, r))
        if post["ParentId"] is not None:
            parent = dict(zip(cols, by_id[post["ParentId"]]))
            assert parent["PostTypeId"] == 1 and parent["CreationDate"] <= post["CreationDate"]
        if post["OwnerUserId"] is not None:
            assert users[post["OwnerUserId"]] <= post["CreationDate"] or post["OwnerUserId"] == -1


def test_realistic_text(rows):
    body = TABLES["Posts"].column_names.index("Body")
    bodies = [r[body] for r in rows["Posts"]]
    mean = statistics.fmean(len(b) for b in bodies)
    assert 1000 <= mean <= 1500, mean
    assert any("<pre><code>" in b for b in bodies)
    assert any(any(ord(ch) > 0xFFFF for ch in b) for b in bodies)  # emoji
    assert any(any(0x590 <= ord(ch) <= 0x6FF for ch in b) for b in bodies)  # Hebrew/Arabic
    assert sum(1 for b in bodies if "\t" in b or "\\" in b) > len(bodies) / 10
    created = TABLES["Posts"].column_names.index("CreationDate")
    assert all(isinstance(r[created], datetime) for r in rows["Posts"])


def test_nulls_where_the_real_data_has_them(rows):
    cols = TABLES["Posts"].column_names
    answers = [dict(zip(cols, r)) for r in rows["Posts"] if r[cols.index("PostTypeId")] == 2]
    assert answers and all(a["Title"] is None and a["Tags"] is None for a in answers)
    vcols = TABLES["Votes"].column_names
    upvotes = [dict(zip(vcols, r)) for r in rows["Votes"] if r[vcols.index("VoteTypeId")] == 2]
    assert all(v["UserId"] is None and v["BountyAmount"] is None for v in upvotes)
    assert all(v["CreationDate"].hour == 0 for v in upvotes)  # votes carry dates only
