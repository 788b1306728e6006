"""The sync and verify tasks take every value option their run's params set, as the copy
does: a param the sync has but does not receive would make the sync treat the replica
differently from the copy that made it (as `collations` once did)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from sluice.airflow.tasks import VALUE_PARAMS, options_for, value_options
from sluice.sync import SyncOptions
from sluice.verify import VerifyOptions

# a value other than the default for each param
CHANGED = {
    "exclude_tables": ["Votes"], "skip_refused": True, "carry_as_text": True,
    "allow_lossy": True, "zero_dates": "null", "nul": "strip", "enums": "type",
    "identifiers": "lower", "schemas": ["dbo"], "exclude_schemas": ["audit"],
    "schema_map": {"dbo": "public"}, "where": {"Posts": 'Score > 0'},
    "exclude_columns": ["Users.AboutMe"], "mask": {"Users.Email": "hash"},
    "fail_on_not_carried": True, "collations": "target",
}  # fmt: skip


def test_every_param_has_a_changed_value_here():
    assert set(CHANGED) == set(VALUE_PARAMS)


@pytest.mark.parametrize("kind", [SyncOptions, VerifyOptions], ids=["sync", "verify"])
@pytest.mark.parametrize("param", sorted(CHANGED))
def test_the_task_takes_the_param(param, kind):
    params = {param: CHANGED[param]}
    copy, default = value_options(params), value_options({})
    changed = [f.name for f in fields(copy) if getattr(copy, f.name) != getattr(default, f.name)]
    assert changed, param  # the param reaches the copy's options
    options = options_for(kind, params, tables=["Posts"])
    has = {f.name for f in fields(kind)}
    for name in changed:
        if name in has:
            assert getattr(options, name) == getattr(copy, name), (param, name)
    assert options.tables == ["Posts"]
