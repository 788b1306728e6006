"""Where verify reports go (`sluice.airflow.reports`): $SLUICE_REPORT_URL, any fsspec URL,
else the local folder of earlier releases; a URL with credentials is refused without showing
them. Writes and reads go through Airflow's ObjectStoragePath, here on the local file system
and fsspec's in-process memory store (no database needed: the report is a plain dict)."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest

pytest.importorskip("airflow")

from sluice.airflow.reports import read_latest, report_root, write_reports  # noqa: E402
from sluice.core.errors import ConfigError, InputFileError, TransientError  # noqa: E402
from sluice.core.urls import redact_all  # noqa: E402
from sluice.verify.report import render_report  # noqa: E402

SECRET = "Rk-51d0c:SLUICE@TOKEN-e9a2f/y"  # ':', '@' and '/' make its encodings differ
SHOWN = (SECRET, quote(SECRET, safe=""), quote(SECRET), "51d0c", "e9a2f")
TABLE = {"table": "Users", "source_rows": 3, "target_rows": 3, "ok": True}
REPORT = {"ok": True, "source": "postgresql://u@h/s", "target": "postgresql://u@h/t",
          "tables": [TABLE]}  # fmt: skip


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({"AIRFLOW_HOME": "/opt/af"}, "file:///opt/af/sluice-reports"),
        ({"AIRFLOW_HOME": "/opt/af", "SLUICE_REPORT_DIR": "/srv/r"}, "file:///srv/r"),
        ({"SLUICE_REPORT_DIR": "/srv/r", "SLUICE_REPORT_URL": "memory://b/p"}, "memory://b/p"),
        ({"SLUICE_REPORT_URL": "/mnt/shared/reports"}, "file:///mnt/shared/reports"),
        ({"SLUICE_REPORT_URL": " file:///mnt/shared "}, "file:///mnt/shared"),
        ({"SLUICE_REPORT_URL": "memory://Reports/X"}, "memory://Reports/X"),
    ],
)
def test_report_root_precedence(environ, url) -> None:
    root = report_root(environ)
    assert (root.url, root.shown) == (url, url)


def test_a_connection_id_is_used_but_not_shown() -> None:
    root = report_root({"SLUICE_REPORT_URL": "memory://reports_conn@shared/reports"})
    assert root.url == "memory://reports_conn@shared/reports"
    assert root.shown == "memory://shared/reports"
    assert root.path().conn_id == "reports_conn"  # ObjectStoragePath's reading of the user part


@pytest.mark.parametrize(
    "url",
    [
        f"s3://AKIAEXAMPLE:{quote(SECRET, safe='')}@bucket/reports",
        f"memory://user:{quote(SECRET, safe='')}@shared/reports",
        f"gcs://bucket/reports?token={quote(SECRET, safe='')}",
        f"memory://shared/reports?X-Amz-Signature={quote(SECRET, safe='')}&region=eu",
    ],
)
def test_credentials_in_the_url_are_refused_unseen(url, caplog) -> None:
    caplog.set_level("DEBUG")
    for call in (lambda: report_root({"SLUICE_REPORT_URL": url}),
                 lambda: read_latest("dag", {"SLUICE_REPORT_URL": url})):  # fmt: skip
        with pytest.raises(ConfigError, match="SLUICE_REPORT_URL .*keep them in a connection"):
            call()
    try:
        report_root({"SLUICE_REPORT_URL": url})
    except ConfigError as exc:
        texts = [str(exc), repr(exc), *map(str, exc.args)]
    texts += [r.getMessage() for r in caplog.records]
    assert [t for t in texts if any(s in t for s in SHOWN)] == []
    assert "***" in texts[0]
    # the password, remembered, is scrubbed from any later message of this process
    if "@bucket" in url or "user:" in url:
        assert not any(s in redact_all(f"failed: {SECRET}") for s in SHOWN[:3])


@pytest.mark.parametrize("url", ["nosuchproto://x/y", "not a url://x", "memory://[b/x"])
def test_unknown_protocol_is_refused(url) -> None:
    with pytest.raises(ConfigError, match="SLUICE_REPORT_URL"):
        report_root({"SLUICE_REPORT_URL": url})


def test_memory_store_round_trip() -> None:
    """Any fsspec protocol: the run's files, then latest, read back through the module and
    independently through fsspec itself."""
    import fsspec

    base = f"memory://sluice-unit-{uuid.uuid4().hex[:8]}/reports"
    root = report_root({"SLUICE_REPORT_URL": base})
    written = write_reports(REPORT, "dag", "manual__2026-12-06T00:00:00+00:00", root)
    run = "manual__2026-12-06T00_00_00_00_00"
    assert written == [f"{base}/dag/{run}.json", f"{base}/dag/{run}.html"]
    memory = fsspec.filesystem("memory")
    folder = base.removeprefix("memory:/")
    assert sorted(p.rsplit("/", 1)[1] for p in memory.ls(folder + "/dag", detail=False)) == [
        "latest.html", "latest.json", f"{run}.html", f"{run}.json"]  # fmt: skip
    assert json.loads(memory.cat(f"{folder}/dag/latest.json")) == REPORT
    assert memory.cat(f"{folder}/dag/{run}.html").decode() == render_report(REPORT, ".html")
    report, html = read_latest("dag", {"SLUICE_REPORT_URL": base})
    assert report == REPORT and html == f"{base}/dag/latest.html"


def test_local_folder_made_on_first_write(tmp_path) -> None:
    env = {"SLUICE_REPORT_DIR": str(tmp_path / "new" / "reports")}
    write_reports(REPORT, "dag", "r1", report_root(env))
    assert json.loads((tmp_path / "new/reports/dag/r1.json").read_text()) == REPORT
    assert read_latest("dag", env)[0] == REPORT


def test_unwritable_store_names_the_place(tmp_path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    root = report_root({"SLUICE_REPORT_URL": f"file://{tmp_path}/afile"})
    with pytest.raises(TransientError, match=rf"file://{tmp_path}/afile/dag/r1\.json"):
        write_reports(REPORT, "dag", "r1", root)


def test_missing_report_is_said(tmp_path) -> None:
    with pytest.raises(InputFileError, match=r"latest\.json: no verify report there"):
        read_latest("dag", {"SLUICE_REPORT_URL": f"file://{tmp_path}"})


def test_a_store_without_its_package_names_it() -> None:
    try:
        import s3fs  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"SLUICE_REPORT_URL 's3://bucket/reports'.*s3fs"):
            report_root({"SLUICE_REPORT_URL": "s3://bucket/reports"})
    else:
        pytest.skip("s3fs is installed here")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("s3://b/p?token=T0k3nValue&region=eu", "s3://b/p?token=***&region=eu"),
        ("https://acct.blob/c?sv=2024&sig=AbC%2Fd&se=1", "https://acct.blob/c?sv=2024&sig=***&se=1"),
        ("gs://b/o?X-Goog-Signature=ff&X-Amz-Credential=a/b", "gs://b/o?X-Goog-Signature=***&X-Amz-Credential=***"),
        ("abfs://c?account_key=K&key=k2", "abfs://c?account_key=***&key=***"),
        ("postgresql://u@h/db?sslkey=/etc/k.pem", "postgresql://u@h/db?sslkey=/etc/k.pem"),
    ],
)  # fmt: skip
def test_secret_query_options_are_masked(text, masked) -> None:
    """`redact_all` and `mask_text` mask object stores' secret-named query options too (a
    libpq `sslkey` is a file's path: shown)."""
    from sluice.core.urls import mask_text

    assert redact_all(f"failed: {text}") == f"failed: {masked}"
    assert mask_text(text) == masked


def test_demo_prints_the_latest_report_from_the_report_url(tmp_path, monkeypatch, capsys) -> None:
    """`sluice demo`'s last step reads what the verify task wrote, wherever the URL points."""
    from sluice.cli.demo import _print_verification
    from sluice.core.errors import SluiceError

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))  # the demo sets it: restored after
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "SLUICE_REPORT_URL": f"memory://demo-{uuid.uuid4().hex[:8]}",
    }
    write_reports(REPORT, "dag", "r1", report_root(env))
    _print_verification(env, "dag")
    out = capsys.readouterr().out
    assert (
        "verify MATCH" in out
        and f"verification report: {env['SLUICE_REPORT_URL']}/dag/latest.html" in out
    )
    write_reports({**REPORT, "ok": False}, "dag", "r2", report_root(env))
    with pytest.raises(SluiceError, match="verification failed"):
        _print_verification(env, "dag")
