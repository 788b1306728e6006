"""docs/selection.md "Job files": its worked example is the file in docs/examples/ and a valid
`sluice copy` job (every key of it read by copy's own parser); its key reference names every
key of plan, copy, verify and sync, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from sluice.cli.jobfile import JOB_COMMANDS, load, other_keys, subparser
from sluice.cli.main import build_parser
from sluice.core import jobspec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "stackoverflow2010-mssql-to-postgres.yaml"


def check_copy_job(text: str, tmp_path: Path) -> dict:
    """Read `text` as `sluice copy --config` would (secrets from a made-up environment)."""
    path = tmp_path / "job.yaml"
    path.write_text(text, encoding="utf-8")
    values, lines = load(path)
    parser = build_parser()
    keys = jobspec.keys_of(subparser(parser, "copy"))
    environ = {n: "x" for n in jobspec.ENV_REF.findall(text)}
    return jobspec.read(values, keys, "copy", lambda k: f"job.yaml line {lines[k]}", environ,
                        other_keys(parser, "copy"))  # fmt: skip


def doc_section() -> str:
    text = (ROOT / "docs" / "selection.md").read_text(encoding="utf-8")
    return text[text.index("## Job files") :]


def test_the_worked_example_is_the_example_file_and_a_valid_copy_job(tmp_path):
    section = doc_section()
    block = re.search(r"^```yaml\n(.*?)^```", section, re.M | re.S).group(1)
    file_text = EXAMPLE.read_text(encoding="utf-8")
    assert block == file_text[file_text.index("source:") :]
    data = yaml.safe_load(file_text)
    assert data["identifiers"] == "lower"
    assert data["where"] == {"Posts": "CreationDate >= '2009-01-01' AND "
                                      "CreationDate < '2010-01-01'"}  # fmt: skip
    assert set(data["mask"]) == {"Users.DisplayName", "Users.Location", "Users.WebsiteUrl",
                                 "Users.AboutMe"}  # fmt: skip
    read = check_copy_job(file_text, tmp_path)
    assert read["workers"] == 8 and read["memory_cap"] == 512 << 20
    assert read["source"] == "mssql+pymssql://sluice:x@sqlserver:1433/StackOverflow2010"
    assert read["identifiers"] == "lower" and read["where"] and read["mask"]


def test_the_key_reference_names_every_key_and_only_keys():
    section = doc_section()
    reference = section[section.index("**Key reference.**") : section.index("**Precedence:**")]
    documented = set(re.findall(r"`([a-z_]+)`", reference)) - {"true", "lower"}
    parser = build_parser()
    keys = set().union(*(jobspec.keys_of(subparser(parser, c)) for c in JOB_COMMANDS))
    assert keys - documented == set(), "keys without a line in docs/selection.md"
    assert documented - keys == set(), "documented keys no command has"
