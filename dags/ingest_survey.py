"""ingest_survey: load new survey exports from the inbox (`$CSTRACK_INBOX/surveys/`) into raw through
their codebooks (`surveys/<codebook>.yml`, matched by file-name prefix). An export already loaded is
skipped (content hash), so each file loads once however often the DAG runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from cstrack.orchestration.assets import SURVEY_ANSWERS
from cstrack.errors import task_errors


@dag(
    dag_id="ingest_survey",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["cstrack", "ingest"],
    doc_md=__doc__,
)
def ingest_survey():
    @task(outlets=[SURVEY_ANSWERS])
    @task_errors
    def load_surveys() -> list[dict]:
        from dataclasses import asdict

        from cstrack.orchestration import airflow_glue
        from cstrack.ingest.survey import load_survey_inbox

        return [asdict(r) for r in load_survey_inbox(airflow_glue.warehouse_from_connection())]

    load_surveys()


ingest_survey()
