"""The library's errors keep the password out of everything a caller (or Airflow, which logs
tracebacks) can print: the message, repr, args, the formatted traceback, and every exception
chained behind it through __cause__ or __context__, suppressed or not. Log records emitted
meanwhile, at DEBUG, are searched too."""

from __future__ import annotations

import logging

from sluice.copy import CopyOptions, copy_database
from sluice.copy.buffer import ByteBudget
from sluice.copy.plan import build_plan
from sluice.copy.publish import prepare
from sluice.copy.transfer import TransferOptions, copy_chunk
from sluice.core.urls import DbUrl
from sluice.dialects import get_dialect
from sluice.verify import VerifyOptions, verify_database
from tests.reliability.secrets import MALFORMED, exception_texts, found_in, with_password


def failure(name: str, fn) -> BaseException:
    try:
        fn()
    except Exception as exc:
        return exc
    raise AssertionError(f"{name}: did not fail")


def assert_clean(exc: BaseException, caplog) -> None:
    texts = exception_texts(exc)
    texts += [r.getMessage() for r in caplog.records]
    texts += [logging.Formatter().format(r) for r in caplog.records]
    leaks = [text for text in texts if found_in(text)]
    assert leaks == []


def test_library_errors_and_their_chains(pg_db, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    good = DbUrl.parse(with_password(pg_db))
    closed = DbUrl.parse(with_password(DbUrl(pg_db.url.set(port=1))))
    missing = DbUrl.parse(with_password(pg_db, database="sluice_no_such_database"))
    conn = get_dialect("postgresql").connect(good)
    conn.execute('CREATE TABLE "T" ("Id" int PRIMARY KEY, "At" timestamp)')
    conn.execute('INSERT INTO "T" SELECT g, now() FROM generate_series(1, 300) g')
    conn.execute('UPDATE "T" SET "At" = \'infinity\' WHERE "Id" = 250')
    conn.commit()
    conn.close()
    sqlite = DbUrl.parse(f"sqlite:///{tmp_path / 'target.db'}")
    others = [
        DbUrl.parse(with_password(DbUrl.parse(f"{e}://sa@127.0.0.1:1/db")))
        for e in ("mysql+pymysql", "mssql+pymssql")
    ]
    cases = {
        "malformed URL": lambda: DbUrl.parse(MALFORMED),
        "unparsable URL": lambda: DbUrl.parse("post gres://u:" + with_password(pg_db)[13:]),
        "unknown engine": lambda: get_dialect(
            DbUrl.parse(with_password(pg_db).replace("postgresql", "nosuch")).engine
        ),
        "connect, port closed": lambda: get_dialect("postgresql").connect(closed),
        "connect, no database": lambda: get_dialect("postgresql").connect(missing),
        "plan, port closed": lambda: build_plan(closed, sqlite),
        "plan, no database": lambda: build_plan(missing, sqlite),
        "copy, target closed": lambda: copy_database(good, closed),
        "verify, source closed": lambda: verify_database(closed, good, VerifyOptions()),
    }
    for url in others:
        cases[f"{url.engine} closed"] = lambda url=url: get_dialect(url.engine).connect(url)
        cases[f"copy to {url.engine}"] = lambda url=url: copy_database(good, url)

    def midway():  # a chunk failing while it reads (PostgreSQL infinity has no Python form)
        result = copy_database(good, sqlite, CopyOptions(tables=["T"], chunk_rows=100))
        assert not result.ok and not found_in(" ".join(result.failures))
        plan = build_plan(good, sqlite, tables=["T"], chunk_rows=100)
        prepare(plan, sqlite)
        copy_chunk(plan.tables[0], plan.chunks[-1], good, sqlite, ByteBudget(1 << 20),
                   TransferOptions(retries=0))  # fmt: skip

    cases["chunk failing mid-way"] = midway
    for name, fn in cases.items():
        exc = failure(name, fn)
        assert "***" in str(exc) or name in ("unknown engine", "chunk failing mid-way"), name
        assert_clean(exc, caplog)
    assert len(cases) == 14
