"""Job files (`--config job.yaml`) and DAG params read as jobs: keys from the command's own
parser, errors with file, line and the closest key, flags over the environment over the file,
${VAR} expansion that never shows the secret (docs/selection.md "Job files")."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from sluice.cli import jobfile
from sluice.cli.dagparams import job_namespace, job_options
from sluice.cli.main import build_parser, main
from sluice.core import jobspec
from sluice.core.errors import ConfigError

SECRET = "t24-s3cret-pw"


def write(tmp_path: Path, text: str, name: str = "job.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def read(argv: list[str], environ: dict | None = None) -> argparse.Namespace:
    """The namespace `sluice` would run with, job file applied (no command run)."""
    args = build_parser().parse_args(argv)
    return jobfile.apply(args, argv, build_parser, environ or {})


def error(argv: list[str], environ: dict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        read(argv, environ)
    return str(info.value)


def test_every_option_of_the_command_is_a_key_with_its_type(tmp_path):
    job = write(tmp_path, """
        source: postgresql://u@db/src
        target: postgresql://u@db/dst
        tables: [Users, "sales.*"]
        exclude_tables: Votes
        schemas: [dbo, sales]
        exclude_schemas: [tmp]
        schema_map: {dbo: public, sales: ""}
        workers: 8
        chunk_rows: 5000
        chunk_size: 64MiB
        memory_cap: 1GiB
        allow_lossy: true
        skip_refused: yes
        nul: replace
        zero_dates: "-infinity"
        connect_timeout: 5s
        verify: true
        report: [a.json, b.html]
        verify_chunk_rows: 1000
    """)  # fmt: skip
    a = read(["copy", "--config", str(job)])
    assert (a.source, a.target) == ("postgresql://u@db/src", "postgresql://u@db/dst")
    assert (a.tables, a.exclude_tables, a.schemas) == ("Users,sales.*", "Votes", "dbo,sales")
    assert a.schema_map == ["dbo=public", "sales="]
    assert (a.workers, a.chunk_rows, a.chunk_size, a.memory_cap) == (8, 5000, 64 << 20, 1 << 30)
    assert (a.allow_lossy, a.skip_refused, a.nul, a.zero_dates) == (True, True, "replace",
                                                                     "-infinity")  # fmt: skip
    assert (a.connect_timeout, a.verify, a.report) == (5.0, True, ["a.json", "b.html"])
    assert a.verify_chunk_rows == 1000 and a.carry_as_text is False  # untouched: the default
    from sluice.cli.copy import copy_options

    options = copy_options(a)
    assert options.selection.schema_map == (("dbo", "public"), ("sales", ""))
    assert options.exclude == ("Votes",) and options.tables == ["Users", "sales.*"]


def test_an_unknown_key_names_file_line_and_the_closest_option(tmp_path):
    job = write(tmp_path, """
        # a comment line
        source: postgresql://u@db/src

        workerz: 4
        exclude_table: [Votes]
    """)  # fmt: skip
    text = error(["copy", "--config", str(job)])
    assert "job.yaml line 4: 'workerz' is not an option of sluice copy (did you mean " \
           "'workers'?)" in text  # fmt: skip
    assert "job.yaml line 5: 'exclude_table' is not an option of sluice copy (did you mean " \
           "'exclude_tables'?)" in text  # every problem at once  # fmt: skip


def test_the_command_stops_on_a_bad_job_file_with_one_line_and_exit_2(tmp_path, capsys):
    job = write(tmp_path, "source: postgresql://u@127.0.0.1:1/src\nworkerz: 4\nworkers: many\n")
    assert main(["copy", "--config", str(job)]) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        "error: job.yaml line 2: 'workerz' is not an option of sluice copy (did you mean "
        "'workers'?); job.yaml line 3: workers: not an integer: 'many' (the flag --workers)"
    ]


def test_bad_values_name_the_key_and_line(tmp_path):
    job = write(tmp_path, """
        workers: many
        allow_lossy: "true"
        nul: drop
        workers_x: 1
        schemas: {a: b}
        chunk_size: lots
    """)  # fmt: skip
    text = error(["copy", "--config", str(job)])
    assert "job.yaml line 1: workers: not an integer: 'many' (the flag --workers)" in text
    assert "line 2: allow_lossy: takes true or false" in text
    assert "line 3: nul: must be one of error, strip, replace, got 'drop'" in text
    assert "line 4: 'workers_x' is not an option" in text
    assert (
        "line 5: schemas: takes a list (or one value) (the flag --schemas), got a mapping" in text
    )
    assert "line 6: chunk_size: not a size: 'lots'" in text


def test_yaml_errors_repeats_and_shapes_name_the_line(tmp_path):
    text = error(["copy", "--config", str(write(tmp_path, "workers: 4\ntables: [a,\n"))])
    assert text.startswith("job.yaml line 3:"), text
    text = error(["copy", "--config", str(write(tmp_path, "workers: 4\nnul: strip\nworkers: 2\n"))])
    assert text == "job.yaml line 3: 'workers' is given twice (first on line 1)"
    text = error(["copy", "--config", str(write(tmp_path, "- workers\n- 4\n"))])
    assert "job.yaml line 1: a job file is a mapping" in text
    assert "cannot read job file" in error(["copy", "--config", str(tmp_path / "nope.yaml")])
    empty = read(["copy", "--config", str(write(tmp_path, "# nothing yet\n"))])
    assert empty.workers == 4


def test_flags_given_override_the_file_and_the_environment_overrides_it_too(tmp_path):
    job = write(tmp_path, """
        source: postgresql://u@db/from_file
        target: postgresql://u@db/target_file
        workers: 8
        chunk_rows: 5000
        schema_map: {dbo: public}
        report: [file.json]
        skip_refused: true
    """)  # fmt: skip
    argv = ["copy", "--config", str(job), "--workers", "2", "--schema-map", "dbo=so",
            "--report", "flag.md", "--chunk-rows=7"]  # fmt: skip
    a = read(argv, {"SLUICE_SOURCE_URL": "postgresql://u@db/from_env"})
    assert (a.workers, a.chunk_rows, a.schema_map, a.report) == (2, 7, ["dbo=so"], ["flag.md"])
    assert a.skip_refused is True  # the file, where no flag was given
    assert a.source is None  # $SLUICE_SOURCE_URL (read by endpoints) beats the file...
    assert a.target == "postgresql://u@db/target_file"  # ...only where it is set
    a = read(["copy", "--config", str(job), "--source", "postgresql://u@db/flag"],
             {"SLUICE_SOURCE_URL": "postgresql://u@db/from_env"})  # fmt: skip
    assert a.source == "postgresql://u@db/flag"
    # an abbreviated flag is a flag given, as argparse reads it
    assert read(["copy", "--config", str(job), "--work", "3"]).workers == 3


def test_one_file_serves_copy_verify_and_plan(tmp_path, caplog):
    job = write(tmp_path, """
        workers: 8
        lock_timeout: 5
        rows: true
        chunk_rows: 900
    """)  # fmt: skip
    assert read(["copy", "--config", str(job)]).lock_timeout == 5.0
    with caplog.at_level("INFO", logger="sluice"):
        v = read(["verify", "--config", str(job)])
        p = read(["plan", "--config", str(job)])
    assert (v.workers, v.rows) == (8, True) and not hasattr(v, "lock_timeout")
    assert p.chunk_rows == 900 and not hasattr(p, "workers")
    s = read(["sync", "--config", str(job)])
    assert not hasattr(s, "workers") and not hasattr(s, "chunk_rows") and s.no_deletes is False
    assert "job.yaml line 2: 'lock_timeout' is an option of sluice copy, not of sluice verify" \
        in caplog.text  # fmt: skip
    # a misspelt key is still an error, suggested from every job command's options
    text = error(["plan", "--config", str(write(tmp_path, "lock_timout: 5\n"))])
    assert "'lock_timout' is not an option of sluice plan (did you mean 'lock_timeout'?)" in text


def test_environment_variables_expand_and_never_show(tmp_path, capsys):
    job = write(tmp_path, """
        source: postgresql://app:${T24_PW}@127.0.0.1:1/src
        target: postgresql://app@127.0.0.1:1/dst
        workers: ${T24_WORKERS}
        connect_timeout: ${T24_BAD}
    """)  # fmt: skip
    env = {"T24_PW": SECRET, "T24_WORKERS": "3", "T24_BAD": f"{SECRET}s"}
    text = error(["copy", "--config", str(job)], env)
    assert "line 4: connect_timeout: not a valid value (${T24_BAD} as expanded)" in text
    assert SECRET not in text
    env["T24_BAD"] = "2"
    a = read(["copy", "--config", str(job)], env)
    assert a.source == f"postgresql://app:{SECRET}@127.0.0.1:1/src" and a.workers == 3
    text = error(["copy", "--config", str(job)], {"T24_PW": SECRET})
    assert "line 3: workers: the environment variable T24_WORKERS is not set" in text
    # through the command: the connection fails, the password is never printed
    plan = write(tmp_path, "source: postgresql://app:${T24_PW}@127.0.0.1:1/src\n"
                           "target: postgresql://app:${T24_PW}@127.0.0.1:1/dst\n"
                           "connect_timeout: 2\n", "plan.yaml")  # fmt: skip
    import os

    os.environ["T24_PW"] = SECRET
    try:
        code = main(["plan", "--config", str(plan)])
    finally:
        del os.environ["T24_PW"]
    out, err = capsys.readouterr()
    assert code != 0 and "127.0.0.1" in err and SECRET not in out + err, err


def test_an_option_added_later_is_a_key_without_a_change_here():
    """What --where, --mask, --identifiers, --resume will be: read from the parser alone."""
    p = argparse.ArgumentParser()
    p.add_argument("--where", action="append", metavar="'TABLE: CONDITION'")
    p.add_argument("--mask", action="append", metavar="T.C=HOW")
    p.add_argument("--exclude-columns", metavar="T.C,...")
    p.add_argument("--identifiers", choices=("preserve", "lower", "snake"), default="preserve")
    p.add_argument("--resume", action="store_true")
    keys = jobspec.keys_of(p)
    got = jobspec.read({"where": {"Posts": "CreationDate >= '2009-01-01'"},
                        "mask": {"Users.DisplayName": "hash", "Users.Location": "null"},
                        "exclude_columns": ["Users.AboutMe", "Posts.Body"],
                        "identifiers": "lower", "resume": True},
                       keys, "copy", lambda k: "job.yaml")  # fmt: skip
    assert got == {"where": ["Posts: CreationDate >= '2009-01-01'"],
                   "mask": ["Users.DisplayName=hash", "Users.Location=null"],
                   "exclude_columns": "Users.AboutMe,Posts.Body", "identifiers": "lower",
                   "resume": True}  # fmt: skip
    p.add_argument("--only-pair", metavar="K=V")
    with pytest.raises(ConfigError, match="only_pair: takes one value .* got 2"):
        jobspec.read({"only_pair": {"a": "1", "b": "2"}}, jobspec.keys_of(p), "copy",
                     lambda k: "job.yaml")  # fmt: skip
    assert jobspec.read({"only_pair": {"a": 1}}, jobspec.keys_of(p), "copy",
                        lambda k: "job.yaml") == {"only_pair": "a=1"}  # fmt: skip
    with pytest.raises(
        ConfigError, match="identifiers: must be one of preserve, lower, snake, got 'upper'"
    ):
        jobspec.read({"identifiers": "upper"}, keys, "copy", lambda k: "job.yaml")


def test_dag_params_are_read_as_jobs_of_the_command():
    params = {"tables": [], "chunk_rows": 5000, "exclude_tables": ["Votes"],
              "schemas": ["sales"], "exclude_schemas": [], "schema_map": {"sales": "archive"},
              "nul": "strip", "workers": 2, "rows": True}  # fmt: skip
    copy = job_options("copy", params)
    assert copy.selection.schema_map == (("sales", "archive"),) and copy.nul == "strip"
    assert copy.tables is None and copy.exclude == ("Votes",) and copy.workers == 2
    verify = job_options("verify", params)  # nul is copy's: left out here
    assert (verify.schema_map, verify.workers, verify.rows) == ((("sales", "archive"),), 2, True)
    assert verify.schemas == ("sales",)
    sync = job_options("sync", {**params, "rows": None, "no_deletes": True})
    assert sync.deletes is False and sync.schemas == ("sales",)
    with pytest.raises(ConfigError, match=r"DAG params: 'workerz' is not an option of sluice "
                                          r"copy \(did you mean 'workers'\?\)"):  # fmt: skip
        job_options("copy", {"workerz": 2}, where="DAG params")
    with pytest.raises(ConfigError, match="'source' is not a param here: the connection"):
        job_namespace("copy", {"source": "postgresql://x@h/db"},
                      refused={"source": "the connection"})  # fmt: skip
    with pytest.raises(ConfigError, match="workers: must be >= 1"):
        job_options("copy", {"workers": 0})
