"""ingest_catalogues: load new catalogue exports from the inbox (`$CSTRACK_INBOX/catalogues/`) into
raw. An export already loaded is skipped, so the daily run costs nothing when nothing changed."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from cstrack.orchestration.assets import CATALOGUE_RECORDS
from cstrack.errors import task_errors


@dag(
    dag_id="ingest_catalogues",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["cstrack", "ingest"],
    doc_md=__doc__,
)
def ingest_catalogues():
    @task(outlets=[CATALOGUE_RECORDS])
    @task_errors
    def load_catalogues() -> list[dict]:
        from dataclasses import asdict

        from cstrack.orchestration import airflow_glue
        from cstrack.orchestration import pipeline

        return [asdict(r) for r in pipeline.load_catalogue_inbox(airflow_glue.warehouse_from_connection())]

    load_catalogues()


ingest_catalogues()
