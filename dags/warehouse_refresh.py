"""warehouse_refresh: ingest every source (catalogue exports, the crawl, surveys, social posts), build and
publish the marts behind the quality gate, then write the static report and the PPSR export, and
provision Metabase from the dashboard specs when METABASE_URL is set.
Thin: every task calls a function of the cstrack package."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from cstrack.orchestration.assets import CATALOGUE_RECORDS, SOCIAL_POSTS, SURVEY_ANSWERS
from cstrack.errors import task_errors

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
    @task(outlets=[CATALOGUE_RECORDS])
    @task_errors
    def load_catalogues() -> list[dict]:
        from cstrack.orchestration import pipeline

        return [asdict(r) for r in pipeline.load_catalogue_inbox(_warehouse())]

    @task(outlets=[CATALOGUE_RECORDS])
    @task_errors
    def crawl_platforms() -> list[dict]:
        from cstrack.orchestration import pipeline

        return [asdict(r) for r in pipeline.crawl_step(_warehouse())]

    @task(outlets=[SURVEY_ANSWERS])
    @task_errors
    def load_surveys() -> list[dict]:
        from cstrack.ingest.survey import load_survey_inbox

        return [asdict(r) for r in load_survey_inbox(_warehouse())]

    @task(outlets=[SOCIAL_POSTS])
    @task_errors
    def load_social() -> list[dict]:
        from cstrack.ingest.social import load_social_inbox

        return [asdict(r) for r in load_social_inbox(_warehouse())]

    @task(retries=0)  # a failed quality gate is a verdict, not a glitch: do not retry it
    @task_errors
    def build_marts() -> dict[str, int]:
        from cstrack.publish import marts

        return marts.build(_warehouse())

    @task
    @task_errors
    def write_report() -> str:
        from cstrack.serve import report

        return str(report.write_report(_warehouse()))

    @task
    @task_errors
    def export_ppsr() -> str:
        from cstrack.serve import export

        return str(export.export_ppsr(_warehouse())[0])

    @task
    @task_errors
    def sync_metabase() -> str:
        from cstrack.orchestration import pipeline

        return pipeline.sync_metabase_if_configured()

    built = build_marts()
    [load_catalogues(), crawl_platforms(), load_surveys(), load_social()] >> built
    built >> [write_report(), export_ppsr(), sync_metabase()]


warehouse_refresh()
