"""Datasets sluice knows by name: their exact schema, a generator, and an importer, plus the
shared loader that writes generated or imported rows into any engine. A dataset's defaults
(logical foreign keys, watermarks, quality rules) are plain data the capabilities read.

May import: sluice.dialects, sluice.core.
"""
