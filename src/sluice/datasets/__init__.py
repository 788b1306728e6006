"""Datasets sluice knows by name: their exact schema, a generator, and an importer."""
