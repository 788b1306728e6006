"""Database URLs: parsing, engine lookup, and masking of passwords in anything we print.

URLs are SQLAlchemy-style (`postgresql://`, `mssql+pymssql://`, `mysql+pymysql://`,
`sqlite:///`; `postgres://`, as libpq and hosting services print it, means `postgresql://`).
A `DbUrl` never shows its password: `str()` and `repr()` mask it, and `redact()` scrubs it
from any text (driver errors included) before it is shown.

How text is scrubbed (`redact`, `redact_all`), in two passes:
1. Structurally, whatever the password: the password field of every `scheme://user:pw@host`
   in the text, the value of every `password=` option (URL query, libpq conninfo, ODBC
   `Password=...;`), and of every URL query option named like a secret (`?token=`, `?sig=`,
   `?secret=`, `?X-Amz-Signature=`, `?account_key=`: object stores) become `***`.
2. In free text, a known secret (raw or URL-encoded) is replaced only where it stands whole
   (no letter or digit right before or after it), and only when masking it cannot destroy the
   rest of the message: it is at least `MIN_FREE_TEXT` characters long, it is not a word the
   engines print themselves (`postgres`, `root`, `password`, ...), and it is not also the
   user, host or database of a parsed URL (those are shown in every masked URL anyway). So a
   password `x` never turns "does not exist" into "does not e***ist", and a password `root`
   never hides the user name `root`. A secret of `MIN_ANYWHERE` characters or more is masked
   even inside a longer word: text that long containing it is the secret leaking.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sluice.core.errors import ConfigError
from sluice.core.liveness import Timeouts

MASK = "***"
# Shorter secrets are masked structurally only (URL password fields, password= options):
# replaced in free text, '1' would hit every port and address.
MIN_FREE_TEXT = 4
MIN_ANYWHERE = 12
# Words engines and drivers print in their own messages: a password equal to one of them is
# masked structurally only, or "password authentication failed" would lose its first word.
COMMON_WORDS = frozenset(
    "postgres postgresql mysql mariadb mssql sqlite root admin administrator sa user users "
    "password passwd secret test public master default localhost database server host "
    "connection error failed true false null none".split()
)

# Every password seen by `DbUrl.parse` in this process, so that any text shown to a user
# (errors from deep inside a driver included) can be scrubbed with `redact_all`.
_SECRETS: set[str] = set()
# The user names, hosts and databases of those URLs: shown in every masked URL, so a secret
# equal to one of them is not hunted in free text (it would erase them, and hide nothing).
_VISIBLE: set[str] = set()
# Query options that carry a secret: libpq takes `password` and `sslpassword` from the query
# (`postgresql://u@h/db?password=...`), and SQLAlchemy hands them to the driver as is.
_SECRET_OPTION = re.compile(r"(?i)([?&][^=&]*password=)[^&]*")
# Query options that carry a secret in object-store and signed URLs (`?token=`, `?sig=`,
# `?X-Amz-Signature=`, `?X-Amz-Credential=`, `?account_key=`, `?secret=`): masked in any URL
# shown. A bare `key` counts; `sslkey` (libpq's path to a key file) does not.
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:[^=&#\s]*(?:secret|token|signature|credential|passwd)[^=&#\s]*"
    r"|sig|sas|key|[^=&#\s]*[_-]key)=)[^&#\s]*"
)
# In free text: the password field of a URL, and `password=value` options (query, libpq
# conninfo `password='a b'`, ODBC `Password=...;`).
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s:/?#]*:)[^\s/@?#]*(?=@)")
_OPTION_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;,)]+)")
# postgres:// is what libpq and many hosting services print; SQLAlchemy knows postgresql://
_SCHEME_ALIASES = {"postgres": "postgresql"}


@dataclass(frozen=True)
class DbUrl:
    """A parsed database URL. `engine` is the dialect registry key (postgresql, mssql, ...)."""

    url: URL
    # how long to wait on this server: to connect, and with no byte moving (core/liveness)
    timeouts: Timeouts = field(default=Timeouts(), compare=False)

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
        backend, plus, driver = url.drivername.partition("+")
        if backend in _SCHEME_ALIASES:
            url = url.set(drivername=_SCHEME_ALIASES[backend] + plus + driver)
        parsed = cls(url)
        for pw in parsed.secrets:
            _SECRETS.update(_forms(pw))
        _VISIBLE.update(str(v) for v in (url.username, url.host, url.database) if v)
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
        return DbUrl(self.url.set(database=database), self.timeouts)

    def without_database(self) -> DbUrl:
        # URL.set(database=None) means "unchanged" in SQLAlchemy, so replace the field itself.
        return DbUrl(self.url._replace(database=None), self.timeouts)

    def with_timeouts(self, timeouts: Timeouts | None) -> DbUrl:
        """The same URL waiting `timeouts` on its server (unchanged when None)."""
        return self if timeouts is None else replace(self, timeouts=timeouts)

    @property
    def host(self) -> str:
        """Where the server is, for messages: host[:port], a socket folder, or the file."""
        u = self.url
        if u.host:
            return f"{u.host}:{u.port}" if u.port else u.host
        socket_dir = u.query.get("host")
        if socket_dir:
            return str(socket_dir if isinstance(socket_dir, str) else socket_dir[0])
        return u.database or "localhost"

    def render_secret(self) -> str:
        """The full URL including the password: only for handing to a driver, never to print."""
        return self.url.render_as_string(hide_password=False)

    def redact(self, text: str) -> str:
        """Remove this URL's secrets (raw and URL-encoded) from arbitrary text (see the
        module's docstring for the rule)."""
        return _scrub(text, {f for pw in self.secrets for f in _forms(pw)})

    def __str__(self) -> str:
        shown = self.url.render_as_string(hide_password=True)
        return _SECRET_OPTION.sub(lambda m: m.group(1) + MASK, shown)

    def __repr__(self) -> str:
        return f"DbUrl({self})"


def mask_text(text: str) -> str:
    """Best-effort masking of `scheme://user:password@host` (and of `?password=` options)
    inside a string we could not parse."""
    text = _SECRET_OPTION.sub(lambda m: m.group(1) + MASK, text)
    text = _SECRET_QUERY.sub(lambda m: m.group(1) + MASK, text)
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text
    cred, at, host = rest.rpartition("@")
    if ":" in cred:
        cred = cred.split(":", 1)[0] + ":" + MASK
    return f"{scheme}{sep}{cred}{at}{host}"


def redact_all(text: str) -> str:
    """Scrub every password this process has parsed from `text` (see the module's docstring)."""
    return _scrub(text, _SECRETS)


def remember_secret(secret: str | None) -> None:
    """Have `redact_all` scrub `secret` too: a password or token met outside a database URL
    (a report URL's, say). Its forms and the free-text rule are those of `redact_all`."""
    if secret:
        _SECRETS.update(_forms(secret))


def _forms(secret: str) -> set[str]:
    """A secret as it may appear: raw and URL-encoded in both quoting styles."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}


def free_text_maskable(secret: str) -> bool:
    """Whether a secret is hunted in free text: long enough, not a common word, not shown
    anyway as a URL's user, host or database (module docstring)."""
    return (
        len(secret) >= MIN_FREE_TEXT
        and secret.lower() not in COMMON_WORDS
        and secret not in _VISIBLE
    )


def _scrub(text: str, secrets: set[str]) -> str:
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    text = _OPTION_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    text = _SECRET_QUERY.sub(lambda m: m.group(1) + MASK, text)
    for secret in sorted(secrets, key=len, reverse=True):
        if not free_text_maskable(secret):
            continue
        if len(secret) >= MIN_ANYWHERE:
            text = text.replace(secret, MASK)
        else:
            whole = re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])")
            text = whole.sub(MASK, text)
    return text


def from_env(name: str, given: str | None) -> str | None:
    """Flag beats environment: `given` if set, else the environment variable `name`."""
    return given if given else os.environ.get(name) or None
