"""Database URLs: parsing, engine lookup, and masking of passwords in anything we print.

URLs are SQLAlchemy-style (`postgresql://`, `mssql+pymssql://`, `mysql+pymysql://`,
`sqlite:///`). A `DbUrl` never shows its password: `str()` and `repr()` mask it,
and `redact()` scrubs it from any text (driver errors included) before it is shown.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sluice.core.errors import ConfigError

MASK = "***"

# Every password seen by `DbUrl.parse` in this process, so that any text shown to a user
# (errors from deep inside a driver included) can be scrubbed with `redact_all`.
_SECRETS: set[str] = set()
# Query options that carry a secret: libpq takes `password` and `sslpassword` from the query
# (`postgresql://u@h/db?password=...`), and SQLAlchemy hands them to the driver as is.
_SECRET_OPTION = re.compile(r"(?i)([?&][^=&]*password=)[^&]*")


@dataclass(frozen=True)
class DbUrl:
    """A parsed database URL. `engine` is the dialect registry key (postgresql, mssql, ...)."""

    url: URL

    @classmethod
    def parse(cls, text: str) -> DbUrl:
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            shown = f" {mask_text(text)!r}" if "://" in text else ""
            raise ConfigError(
                f"not a database URL{shown} (expected e.g. postgresql://user@host:5432/db)"
            ) from None
        if "@" in (url.host or "") + (url.database or ""):  # a password's '@' left raw
            raise ConfigError(
                f"not a database URL {mask_text(text)!r}: write an '@' inside the user or "
                "password as %40"
            )
        parsed = cls(url)
        for pw in parsed.secrets:
            _SECRETS.update({pw, quote(pw, safe=""), quote(pw), quote_plus(pw)})
        return parsed

    @property
    def engine(self) -> str:
        return self.url.get_backend_name()

    @property
    def database(self) -> str | None:
        return self.url.database

    @property
    def password(self) -> str | None:
        pw = self.url.password
        return None if pw is None else str(pw)

    @property
    def secrets(self) -> list[str]:
        """The password and any secret query option (`?password=`, `?sslpassword=`)."""
        found = [self.password] if self.password else []
        for key, value in self.url.query.items():
            if "password" in key.lower():
                found += [value] if isinstance(value, str) else list(value)
        return [s for s in found if s]

    def with_database(self, database: str) -> DbUrl:
        return DbUrl(self.url.set(database=database))

    def without_database(self) -> DbUrl:
        # URL.set(database=None) means "unchanged" in SQLAlchemy, so replace the field itself.
        return DbUrl(self.url._replace(database=None))

    def render_secret(self) -> str:
        """The full URL including the password: only for handing to a driver, never to print."""
        return self.url.render_as_string(hide_password=False)

    def redact(self, text: str) -> str:
        """Remove this URL's secrets (raw and URL-encoded) from arbitrary text."""
        for pw in sorted(self.secrets, key=len, reverse=True):
            for form in {pw, quote(pw, safe=""), quote(pw), quote_plus(pw)}:
                text = text.replace(form, MASK)
        return text

    def __str__(self) -> str:
        shown = self.url.render_as_string(hide_password=True)
        return _SECRET_OPTION.sub(lambda m: m.group(1) + MASK, shown)

    def __repr__(self) -> str:
        return f"DbUrl({self})"


def mask_text(text: str) -> str:
    """Best-effort masking of `scheme://user:password@host` (and of `?password=` options)
    inside a string we could not parse."""
    text = _SECRET_OPTION.sub(lambda m: m.group(1) + MASK, text)
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text
    cred, at, host = rest.rpartition("@")
    if ":" in cred:
        cred = cred.split(":", 1)[0] + ":" + MASK
    return f"{scheme}{sep}{cred}{at}{host}"


def redact_all(text: str) -> str:
    """Scrub every password this process has parsed from `text`."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def from_env(name: str, given: str | None) -> str | None:
    """Flag beats environment: `given` if set, else the environment variable `name`."""
    return given if given else os.environ.get(name) or None
