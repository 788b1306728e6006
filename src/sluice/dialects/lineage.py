"""The `Dialect` method that names a table as OpenLineage does
(https://openlineage.io/docs/spec/naming): lineage from sluice then joins up, in Marquez or
any other consumer, with what other tools report about the same tables. Each engine sets
only its scheme and default port; the rest follows from its capabilities."""

from __future__ import annotations

from sluice.core.urls import DbUrl
from sluice.dialects.capabilities import Capabilities


class LineageNames:
    """Mixed into `Dialect`. `lineage_scheme` None: the spec names no datasource for the
    engine (SQLite), and its tables get no dataset."""

    caps: Capabilities  # Dialect's
    lineage_scheme: str | None = None
    default_port: int | None = None

    def url_schema(self, url: DbUrl) -> str | None:  # Dialect's
        raise NotImplementedError

    def lineage_dataset(self, url: DbUrl, schema: str | None, table: str) -> tuple[str, str] | None:
        """(namespace, name) of `table` in `schema` (None: the URL's default schema): the
        namespace is `scheme://host:port` (a socket folder is this machine: localhost), the
        name `database.schema.table`, or `database.table` where a schema is a database of
        the server (MySQL, MariaDB). Built from host, port and names only: no user, no
        password, no query options."""
        if self.lineage_scheme is None:
            return None
        u = url.url
        namespace = f"{self.lineage_scheme}://{u.host or 'localhost'}:{u.port or self.default_port}"
        schema = schema or self.url_schema(url)
        if self.caps.schemas_are_databases:
            return namespace, f"{schema}.{table}"
        return namespace, f"{url.database}.{schema}.{table}"
