# Airflow 3 with the cstrack package, its DAGs, dbt project, expectations, mappings and dashboard specs.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
USER airflow

WORKDIR /opt/cstrack
COPY --chown=airflow:root requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY --chown=airflow:root plugins ./plugins
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root dbt ./dbt
COPY --chown=airflow:root expectations ./expectations
COPY --chown=airflow:root catalogues ./catalogues
COPY --chown=airflow:root dashboards ./dashboards
COPY --chown=airflow:root surveys ./surveys
RUN pip install --no-cache-dir --no-deps -e . && mkdir -p /opt/cstrack/home
