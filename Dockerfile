# Astro Runtime 3.3-8 ships Apache Airflow 3.3.2, the release constraints.txt pins.
# Airflow 3 runtime tags are <major>.<minor>-<patch>; the 3.3 line carries Airflow 3.3.
FROM astrocrpublic.azurecr.io/runtime:3.3-8

# By this line the image's ONBUILD steps have already run, in this order: apt-install the names in
# packages.txt, install requirements.txt, then copy this whole project (less .dockerignore) into
# /usr/local/airflow, the working directory.

# Install sluice itself from src/ (pyproject.toml at the project root) with the SQL Server and
# MySQL drivers. -c pins every package this install resolves to the project's lock. The airflow
# extra is left out on purpose: the runtime already provides Airflow and its providers, and
# pinning apache-airflow from here could swap the runtime's own build for a plain PyPI one.
# pip builds the wheel inside the source tree, so the rm drops what that build left behind.
# As root, like the runtime's own ONBUILD install, so pip writes the system site-packages
# instead of falling back to a per-user install; back to astro afterwards.
USER root
RUN pip install --no-cache-dir --root-user-action=ignore \
        -c /usr/local/airflow/constraints.txt "/usr/local/airflow[mssql,mysql]" \
    && rm -rf /usr/local/airflow/build /usr/local/airflow/src/*.egg-info
USER astro
