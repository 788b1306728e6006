"""Thin helpers for Airflow: connections to engine URLs, and task callables over the library.

Nothing here touches a database or Airflow's metadata at import time; the DAG file imports
this package at parse time and calls it only from inside tasks.
May import: sluice.sync, sluice.verify, sluice.copy, sluice.state, sluice.datasets,
sluice.dialects, sluice.core.
"""
