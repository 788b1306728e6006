"""`--resume` is a plain flag of `sluice copy` (dest `resume`): the command line and a job
file's `resume: true` both set it; a plan run from the same file does not take it."""

from __future__ import annotations

import textwrap

from sluice.cli import build_parser, jobfile

ENDS = ["--source", "sqlite:///s.db", "--target", "sqlite:///t.db"]


def _read(argv):
    return jobfile.apply(build_parser().parse_args(argv), argv, build_parser, {})


def test_resume_is_off_unless_asked():
    assert build_parser().parse_args(["copy", *ENDS]).resume is False
    assert build_parser().parse_args(["copy", *ENDS, "--resume"]).resume is True


def test_a_job_file_key_resume_sets_it(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(textwrap.dedent("""
        source: sqlite:///s.db
        target: sqlite:///t.db
        resume: true
    """).lstrip(), encoding="utf-8")  # fmt: skip
    assert _read(["copy", "--config", str(job)]).resume is True
    assert not hasattr(_read(["plan", "--config", str(job)]), "resume")  # copy's key only
