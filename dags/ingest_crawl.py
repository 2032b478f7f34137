"""ingest_crawl: crawl the citizen-science platforms of `catalogues/platforms.yml` twice a month (as CS
Track ran it). Pages go to raw.crawl_page (conditional GET: unchanged pages are not downloaded again),
projects extracted from them to raw.catalogue_record; a platform whose project count fell by more
than half is flagged in ops.crawl_run. A platform that cannot be crawled fails the task after the
others were crawled."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from cstrack.orchestration.assets import CATALOGUE_RECORDS, CRAWL_PAGES
from cstrack.errors import task_errors


@dag(
    dag_id="ingest_crawl",
    schedule="0 3 1,15 * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # a retry re-crawls politely: pages unchanged since the first try answer 304
    default_args={"retries": 1, "retry_delay": timedelta(minutes=30)},
    tags=["cstrack", "ingest", "crawl"],
    doc_md=__doc__,
)
def ingest_crawl():
    @task(outlets=[CRAWL_PAGES, CATALOGUE_RECORDS])
    @task_errors
    def crawl_platforms() -> list[dict]:
        from cstrack.orchestration import airflow_glue
        from cstrack.ingest.crawl import crawl

        return [r.as_dict() for r in crawl(airflow_glue.warehouse_from_connection())]

    crawl_platforms()


ingest_crawl()
