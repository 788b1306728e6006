"""A recognisable password, the URLs that carry it, and the search for it in anything sluice
wrote or said: raw, URL-encoded (both quoting styles) and by two distinctive parts, so that
a partial or re-encoded leak is found too."""

from __future__ import annotations

import traceback
from pathlib import Path
from urllib.parse import quote, quote_plus

from sluice.core.urls import DbUrl

# ':', '@' and '/' make the URL-encoded form differ from the raw one
PASSWORD = "Pw-7f3a9c:SLUICE@SECRET-b8e1d/x"
MARKERS = ("7f3a9c", "b8e1d")  # in every encoding; the second is all a URL with its '@' left
# raw would show of it (as a host or database name)
FORMS = sorted(
    {PASSWORD, quote(PASSWORD, safe=""), quote(PASSWORD), quote_plus(PASSWORD), *MARKERS}
)


def with_password(url: DbUrl, user: str | None = None, database: str | None = None) -> str:
    """`url` as text with PASSWORD (and `user`, `database` when given), URL-encoded."""
    u = url.url.set(password=PASSWORD)
    if user:
        u = u.set(username=user)
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


# a URL whose port is not a number, with the password in it (no server needed to refuse it)
MALFORMED = f"postgresql://postgres:{quote(PASSWORD, safe='')}@127.0.0.1:x/db"
# what a closed port says: over TCP, or over a Unix socket (the embedded PostgreSQL)
UNREACHABLE = ("Connection refused", "No such file or directory")


def found_in(text: str) -> list[str]:
    return [form for form in FORMS if form in text]


def exception_texts(exc: BaseException) -> list[str]:
    """Every text an exception chain can show: str, repr, args and the formatted traceback
    of every exception reachable through __cause__ and __context__ (suppressed or not)."""
    texts, seen, todo = [], set(), [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        texts += [str(e), repr(e), repr(e.args)]
        texts.append("".join(traceback.format_exception(type(e), e, e.__traceback__)))
        todo += [e.__cause__, e.__context__]
    return texts


def files_under(folder: Path) -> dict[str, str]:
    """Every file below `folder`, read as text (bytes that are not UTF-8 replaced)."""
    return {
        str(p): p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    }
