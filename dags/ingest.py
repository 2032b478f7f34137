"""The ingest DAGs, one per source kind of `cstrack.sources.SOURCES` (ingest_catalogues, ingest_crawl,
ingest_survey, ingest_social): each loads what is new for its kind (social: lands, enriches in parallel mapped
tasks, publishes) and updates the Assets of its raw tables, on which build_marts is scheduled. Their schedules
and docs are in the registry."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from cstrack.orchestration.source_tasks import ingest_tasks
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
        ingest_tasks(source)

    return ingest()


for _source in SOURCES:
    globals()[_source.dag_id] = ingest_dag(_source)
