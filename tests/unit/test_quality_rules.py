"""Quality rules as configuration: validation reports every problem at once, files load from
JSON or YAML, and the StackOverflow rules follow the schema."""

from __future__ import annotations

import json
import sys

import pytest

from sluice.core.errors import ConfigError, InputFileError
from sluice.core.schema import Column, ForeignKey, Table
from sluice.core.types import INTEGER
from sluice.core.urls import DbUrl
from sluice.datasets.stackoverflow import FOREIGN_KEYS, TABLE_NAMES, TABLES
from sluice.datasets.stackoverflow.quality import RULES as PLAIN_RULES
from sluice.verify.quality import (
    CheckResult,
    OrphanRule,
    QualityRules,
    TableRules,
    failed,
    load_rules,
    rules_for,
    run_checks,
    summary_lines,
)

GOOD = {
    "tables": {
        "Votes": {
            "required": ["PostId", "VoteTypeId"],
            "orphans": [
                {"columns": ["PostId"], "ref_table": "Posts", "ref_columns": ["Id"]},
                {
                    "columns": "UserId",
                    "ref_table": "Users",
                    "ref_columns": "Id",
                    "severity": "error",
                    "max_orphans": 5,
                },
            ],
            "drift_tolerance": 0.01,
        },
        "Posts": {},
    }
}


def test_from_dict_builds_typed_rules_and_round_trips():
    rules = QualityRules.from_dict(GOOD)
    votes = rules.for_table("Votes")
    assert votes.required == ("PostId", "VoteTypeId")
    assert votes.drift_tolerance == 0.01
    assert votes.orphans == (
        OrphanRule(ForeignKey("Votes", ("PostId",), "Posts", ("Id",)), "warning", 0),
        OrphanRule(ForeignKey("Votes", ("UserId",), "Users", ("Id",)), "error", 5),
    )
    assert rules.for_table("Posts") == TableRules()
    assert rules.for_table("Unlisted") == TableRules()
    plain = json.loads(json.dumps(rules.to_dict()))
    assert QualityRules.from_dict(plain) == rules


def test_from_dict_reports_every_problem_in_one_error():
    bad = {
        "tabels": {},
        "tables": {
            "Votes": {
                "requird": ["PostId"],
                "required": 7,
                "drift_tolerance": -0.5,
                "orphans": [
                    {"columns": ["PostId"], "ref_table": "Posts", "ref_columns": ["Id"]},
                    {
                        "columns": ["A", "B"],
                        "ref_table": "Posts",
                        "ref_columns": ["Id"],
                        "severity": "fatal",
                        "max_orphans": -1,
                        "colour": "red",
                    },
                ],
            },
            "Posts": {"drift_tolerance": "a lot", "orphans": {"columns": "x"}},
            "Users": ["not", "a", "mapping"],
        },
    }
    with pytest.raises(ConfigError) as info:
        QualityRules.from_dict(bad)
    text = str(info.value)
    expected = [
        "unknown key 'tabels'",
        "tables.Votes: unknown key 'requird'",
        "tables.Votes.required must be a column name or a list of them, not 7",
        "tables.Votes.drift_tolerance must be a number >= 0 or null, not -0.5",
        "tables.Votes.orphans[1]: unknown key 'colour'",
        "tables.Votes.orphans[1]: severity 'fatal'",
        "tables.Votes.orphans[1]: max_orphans must be an integer >= 0, not -1",
        "tables.Votes.orphans[1]: needs ref_table, and columns and ref_columns of equal length",
        "tables.Posts.drift_tolerance must be a number >= 0 or null, not 'a lot'",
        "tables.Posts.orphans must be a list",
        "tables.Users must be a mapping, not list",
    ]
    for part in expected:
        assert part in text
    assert "orphans[0]" not in text  # the good rule is not blamed
    assert text.count("\n  - ") == len(expected)


def test_from_dict_rejects_a_non_mapping():
    with pytest.raises(ConfigError, match="quality rules must be a mapping"):
        QualityRules.from_dict(["tables"])


def test_load_rules_json_and_yaml(tmp_path):
    as_json = tmp_path / "rules.json"
    as_json.write_text(json.dumps(GOOD))
    yaml = pytest.importorskip("yaml")
    as_yaml = tmp_path / "rules.yaml"
    as_yaml.write_text(yaml.safe_dump(GOOD))
    assert load_rules(as_json) == load_rules(as_yaml) == QualityRules.from_dict(GOOD)


def test_yaml_without_pyyaml_names_the_fix(tmp_path, monkeypatch):
    path = tmp_path / "rules.yml"
    path.write_text("tables: {}\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now raises ImportError
    with pytest.raises(ConfigError, match="pip install pyyaml"):
        load_rules(path)
    as_json = tmp_path / "rules.json"
    as_json.write_text('{"tables": {}}')
    assert load_rules(as_json) == QualityRules({})  # JSON needs nothing extra


def test_load_rules_bad_files(tmp_path):
    broken = tmp_path / "rules.json"
    broken.write_text('{"tables": {\n  "Votes": }\n}')
    with pytest.raises(InputFileError, match="rules.json: not valid JSON"):
        load_rules(broken)
    with pytest.raises(InputFileError, match="missing.json"):
        load_rules(tmp_path / "missing.json")
    other = tmp_path / "rules.toml"
    other.write_text("")
    with pytest.raises(ConfigError, match=r"must be a \.json, \.yaml or \.yml file"):
        load_rules(other)


def test_rules_that_do_not_fit_the_tables_stop_before_connecting(tmp_path):
    table = Table("T", (Column("id", INTEGER),), primary_key=("id",))
    rules = QualityRules(
        {
            "T": TableRules(
                required=("name", "id"),
                orphans=(OrphanRule(ForeignKey("T", ("parent",), "P", ("id",)), "loud"),),
            )
        }
    )
    url = DbUrl.parse(f"sqlite:///{tmp_path / 'never.db'}")
    with pytest.raises(ConfigError) as info:
        run_checks(url, [table], rules)
    text = str(info.value)
    assert "tables.T: no column 'name'" in text
    assert "tables.T: no column 'parent'" in text
    assert "severity 'loud'" in text
    assert not (tmp_path / "never.db").exists()


RULES = QualityRules.from_dict(PLAIN_RULES)


def test_stackoverflow_rules_follow_the_schema():
    assert sorted(RULES.tables) == list(TABLE_NAMES)
    votes = RULES.for_table("Votes")
    assert OrphanRule(ForeignKey("Votes", ("PostId",), "Posts", ("Id",)), "warning", 0) in (
        votes.orphans
    )
    assert votes.required == ("PostId", "VoteTypeId", "CreationDate")
    posts = RULES.for_table("Posts")
    assert posts.required == (
        "Body",
        "CreationDate",
        "LastActivityDate",
        "PostTypeId",
        "Score",
        "ViewCount",
    )
    assert RULES.for_table("VoteTypes").required == ("Name",)
    every = [o.foreign_key for r in RULES.tables.values() for o in r.orphans]
    assert sorted(every, key=repr) == sorted(FOREIGN_KEYS, key=repr)
    for r in RULES.tables.values():
        assert r.drift_tolerance is None
        assert all(o.severity == "warning" and o.max_orphans == 0 for o in r.orphans)
        assert "Id" not in r.required
    assert RULES.problems() == []


def test_rules_for_recognises_stackoverflow_and_drops_missing_references():
    subset = [TABLES["Votes"], TABLES["Posts"]]
    rules = rules_for(subset)
    assert sorted(rules.tables) == ["Posts", "Votes"]
    assert [o.foreign_key.ref_table for o in rules.for_table("Votes").orphans] == ["Posts"]
    assert rules.for_table("Votes").required == RULES.for_table("Votes").required
    assert rules_for(list(TABLES.values())) == QualityRules(dict(sorted(RULES.tables.items())))
    other = Table("Votes2", (Column("Id", INTEGER),), primary_key=("Id",))
    assert rules_for([TABLES["Votes"], other]) == QualityRules({})
    assert rules_for([]) == QualityRules({})


def test_failed_and_summary_lines():
    results = [
        CheckResult("orphans", "Votes", "PostId", "warning", False, 3.0, "3 Votes rows whose ..."),
        CheckResult("not_null", "Posts", "Body", "error", False, 1.0, "1 Posts row with NULL Body"),
        CheckResult("row_count_drift", "Posts", None, "error", True, 0.0, "Posts has 2 rows ..."),
    ]
    assert failed(results) == [results[1]]
    assert failed(results, "warning") == [results[0]]
    assert failed(results, None) == results[:2]
    assert summary_lines(results) == [
        "FAIL warning Votes orphans PostId: 3 Votes rows whose ...",
        "FAIL error Posts not_null Body: 1 Posts row with NULL Body",
        "PASS error Posts row_count_drift: Posts has 2 rows ...",
    ]
    assert results[0].to_dict()["column"] == "PostId"
