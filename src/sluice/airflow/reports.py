"""Verification reports on storage every worker reaches, through Airflow's `ObjectStoragePath`.

The root is `$SLUICE_REPORT_URL`: any fsspec URL Airflow can open (`file:///mnt/shared/reports`,
`s3://bucket/prefix`, `gcs://bucket/prefix`, `memory://reports`), with an Airflow connection
id as its user part when the store needs one (`s3://aws_default@bucket/prefix`, as
ObjectStoragePath reads it). Unset, it is a local folder as before: `$SLUICE_REPORT_DIR`, else
`$AIRFLOW_HOME/sluice-reports` (right for one host only: docs/adr/0024).

A run's reports are `<root>/<dag_id>/<run>.json|.html`, then `latest.json|.html` (written last,
so `latest` never names a run whose own files are missing). Credentials never go in the URL:
ObjectStoragePath would take `user:password` for a connection id, and the URL is shown in logs
and XCom; a URL with a password or a query is refused, masked, before any work. What is shown
(`shown`) drops the user part too, so logs and XComs carry the location only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sluice.core.errors import ConfigError, InputFileError, TransientError
from sluice.core.urls import mask_text, redact_all, remember_secret
from sluice.verify.report import render_report

URL_VARIABLE = "SLUICE_REPORT_URL"
DIR_VARIABLE = "SLUICE_REPORT_DIR"  # the local folder of earlier releases, still read
SUFFIXES = (".json", ".html")  # what each run writes, and `latest` too
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


@dataclass(frozen=True)
class ReportRoot:
    """Where reports go: `url` is what ObjectStoragePath opens (an Airflow connection id may
    stand as its user), `shown` the same place without it, for logs, XCom and messages."""

    url: str
    shown: str

    def path(self, *parts: str):
        """An `airflow.sdk.ObjectStoragePath` under the root (imported here: Airflow is heavy)."""
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(self.url)
        for part in parts:
            path = path / part
        return path

    def shown_at(self, *parts: str) -> str:
        return "/".join([self.shown.rstrip("/"), *parts])


def report_root(environ: Mapping[str, str] = os.environ) -> ReportRoot:
    """The root from `environ` (module docstring); a bad URL is a ConfigError that shows it
    masked and says what to write instead."""
    given = (environ.get(URL_VARIABLE) or "").strip()
    if not given:
        folder = environ.get(DIR_VARIABLE) or ""
        if not folder:
            home = Path(environ.get("AIRFLOW_HOME") or "~/airflow").expanduser()
            folder = str(home / "sluice-reports")
        return _local(folder)
    if "://" not in given:  # a plain folder: the local file system
        return _local(given)
    return _checked(given)


def _local(folder: str) -> ReportRoot:
    """A local folder, absolute; not percent-encoded (ObjectStoragePath takes it verbatim)."""
    url = "file://" + Path(folder).expanduser().absolute().as_posix()
    return ReportRoot(url, url)


def _checked(url: str) -> ReportRoot:
    shown = mask_text(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed '[': no detail worth more than the URL itself
        raise ConfigError(
            f"{URL_VARIABLE} {shown!r}: not a URL (e.g. s3://bucket/prefix)"
        ) from None
    if parts.password is not None or parts.query or parts.fragment:
        if parts.password:  # scrubbed from any text shown later in this process
            remember_secret(unquote(parts.password))
        raise ConfigError(
            f"{URL_VARIABLE} {shown!r}: no credentials or options in the report URL (it is "
            "shown in logs and XCom, and ObjectStoragePath reads its user part as an Airflow "
            "connection id): keep them in a connection and name it, e.g. "
            "s3://aws_default@bucket/prefix, or in the store's own environment"
        )
    if not _SCHEME.match(parts.scheme or ""):
        raise ConfigError(f"{URL_VARIABLE} {shown!r}: not a URL (e.g. s3://bucket/prefix)")
    import fsspec

    try:
        fsspec.get_filesystem_class(parts.scheme)
    except ImportError as exc:  # its package missing: fsspec names it
        raise ConfigError(f"{URL_VARIABLE} {shown!r}: {exc}") from None
    except ValueError:  # not fsspec's: maybe a provider's own (airflow.sdk.io.fs)
        from airflow.sdk.io.fs import has_fs

        if not has_fs(parts.scheme):
            raise ConfigError(
                f"{URL_VARIABLE} {shown!r}: no file system knows the protocol "
                f"{parts.scheme!r} (fsspec's or an Airflow provider's)"
            ) from None
    place = parts.netloc.rpartition("@")[2]  # the connection id left out, case kept
    return ReportRoot(url, f"{parts.scheme}://{place}{parts.path}")


def run_file(run_id: str) -> str:
    """A run id as a file name: `manual__2026-11-25T00:00:00+00:00` -> `manual__2026-...`."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id)


def write_reports(
    report: dict, dag_id: str, run_id: str, root: ReportRoot | None = None
) -> list[str]:
    """The run's JSON and HTML, then `latest.*`, under `<root>/<dag_id>/`; returns where the
    run's own files are (shown form, JSON first). A store that fails is a TransientError
    naming the place (the task's retries may find it back)."""
    root = root or report_root()
    names = [f"{run_file(run_id)}{s}" for s in SUFFIXES] + [f"latest{s}" for s in SUFFIXES]
    for name in names:
        text = render_report(report, name)
        try:
            _write(root.path(dag_id, name), text)
        except Exception as exc:  # fsspec stores raise their own kinds: say where, not who
            detail = redact_all(" ".join(f"{type(exc).__name__}: {exc}".split()))
            where = root.shown_at(dag_id, name)
            raise TransientError(f"could not write the verify report {where}: {detail}") from None
    return [root.shown_at(dag_id, name) for name in names[: len(SUFFIXES)]]


def _write(path: Any, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except FileNotFoundError:  # a local folder not made yet (object stores have none)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def read_latest(dag_id: str, environ: Mapping[str, str] = os.environ) -> tuple[dict, str]:
    """The latest report of `dag_id` and where its HTML twin is (shown form): what
    `sluice demo` prints, read from wherever the verify task ran."""
    root = report_root(environ)
    where = root.shown_at(dag_id, "latest.json")
    try:
        text = root.path(dag_id, "latest.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(where, "no verify report there: has the DAG's verify task run, "
                             f"with the same {URL_VARIABLE}?") from None  # fmt: skip
    except Exception as exc:
        detail = redact_all(" ".join(f"{type(exc).__name__}: {exc}".split()))
        raise InputFileError(where, f"could not read it: {detail}") from None
    try:
        return json.loads(text), root.shown_at(dag_id, "latest.html")
    except ValueError as exc:
        raise InputFileError(where, f"not a JSON report: {exc}") from None
