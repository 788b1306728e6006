"""StackOverflow2010: the exact schema, a deterministic generator, and the XML dump importer."""

from sluice.datasets.stackoverflow.schema import FOREIGN_KEYS, ROW_COUNTS, TABLE_NAMES, TABLES

__all__ = ["FOREIGN_KEYS", "ROW_COUNTS", "TABLE_NAMES", "TABLES"]
