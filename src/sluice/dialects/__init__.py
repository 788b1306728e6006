"""Engine dialects, found through a plain dict keyed by URL backend name: one module per engine
(type maps, quoting, SQL templates, bulk paths, fault classification) behind the small
`Dialect` interface in base.py. Everything engine-specific lives here.

May import: sluice.core.
"""

from __future__ import annotations

from importlib import import_module

from sluice.core.errors import ConfigError
from sluice.dialects.base import Capabilities, Dialect

# backend name (as in the URL scheme before "+driver") -> module:class
REGISTRY: dict[str, str] = {
    "postgresql": "sluice.dialects.postgresql:PostgresDialect",
    "mssql": "sluice.dialects.mssql:MssqlDialect",
    "mysql": "sluice.dialects.mysql:MysqlDialect",
    "mariadb": "sluice.dialects.mysql:MysqlDialect",
    "sqlite": "sluice.dialects.sqlite:SqliteDialect",
}

_cache: dict[str, Dialect] = {}


def get_dialect(engine: str) -> Dialect:
    """The dialect for an engine name; an unknown name lists the known ones."""
    if engine not in _cache:
        try:
            module, cls = REGISTRY[engine].split(":")
        except KeyError:
            known = ", ".join(sorted(REGISTRY))
            raise ConfigError(f"unknown database engine {engine!r} (known: {known})") from None
        _cache[engine] = getattr(import_module(module), cls)()
    return _cache[engine]


__all__ = ["Capabilities", "Dialect", "get_dialect", "REGISTRY"]
