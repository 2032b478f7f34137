"""The ingest DAGs, one per source kind of `cstrack.sources.SOURCES` (ingest_catalogues, ingest_crawl,
ingest_survey, ingest_social): each loads what is new for its kind and updates the Assets of its raw tables,
on which build_marts is scheduled. Their schedules and docs are in the registry."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from cstrack.orchestration.assets import outlets
from cstrack.orchestration.progress import reported
from cstrack.sources import SOURCES, Source


def ingest_dag(source: Source):
    @dag(
        dag_id=source.dag_id,
        schedule=source.schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": source.retries, "retry_delay": source.retry_delay},
        tags=["cstrack", "ingest"],
        doc_md=f"{source.dag_id}: {source.description}",
    )
    def ingest():
        @task(task_id=source.task_id, outlets=outlets(source))
        @reported
        def load() -> list[dict]:
            from cstrack.orchestration import airflow_glue

            return airflow_glue.load_task(source.kind)

        load()

    return ingest()


for _source in SOURCES:
    globals()[_source.dag_id] = ingest_dag(_source)
