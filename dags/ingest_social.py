"""ingest_social: load new social-media exports from the inbox (`$CSTRACK_INBOX/social/`: files named
twitter_v2*, mastodon*, lynguo*) into raw.social_post. A file already loaded is skipped, so the daily
run costs nothing when nothing changed; a new export of known posts adds newer observations."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from cstrack.orchestration.assets import SOCIAL_POSTS
from cstrack.errors import task_errors


@dag(
    dag_id="ingest_social",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["cstrack", "ingest"],
    doc_md=__doc__,
)
def ingest_social():
    @task(outlets=[SOCIAL_POSTS])
    @task_errors
    def load_social() -> list[dict]:
        from dataclasses import asdict

        from cstrack.orchestration import airflow_glue
        from cstrack.ingest.social import load_social_inbox

        return [asdict(r) for r in load_social_inbox(airflow_glue.warehouse_from_connection())]

    load_social()


ingest_social()
