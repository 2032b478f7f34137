"""warehouse_refresh: ingest every source kind (`cstrack.sources.SOURCES`: catalogue exports, the crawl,
surveys, social posts), build and publish the marts behind the quality gate, then write the static report and
the PPSR export, and provision Metabase from the dashboard specs when METABASE_URL is set.
Thin: every task calls a function of the cstrack package (`cstrack refresh --no-airflow` calls the same ones)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from cstrack.orchestration.progress import reported
from cstrack.orchestration.source_tasks import ingest_tasks
from cstrack.sources import SOURCES

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=10)}


def _warehouse():
    from cstrack.orchestration import airflow_glue

    return airflow_glue.warehouse_from_connection()


@dag(
    dag_id="warehouse_refresh",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["cstrack", "refresh"],
    doc_md=__doc__,
)
def warehouse_refresh():
    @task(retries=0)  # a failed quality gate is a verdict, not a glitch: do not retry it
    @reported
    def build_marts() -> dict[str, int]:
        from cstrack.publish import marts

        return marts.build(_warehouse())

    @task
    @reported
    def write_report() -> str:
        from cstrack.serve import report

        return str(report.write_report(_warehouse()))

    @task
    @reported
    def export_ppsr() -> str:
        from cstrack.serve import export

        return str(export.export_ppsr(_warehouse())[0])

    @task
    @reported
    def sync_metabase() -> str:
        from cstrack.orchestration import pipeline

        return pipeline.sync_metabase_if_configured()

    built = build_marts()
    [ingest_tasks(source)[1] for source in SOURCES] >> built
    built >> [write_report(), export_ppsr(), sync_metabase()]


warehouse_refresh()
