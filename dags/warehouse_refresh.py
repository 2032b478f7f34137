"""warehouse_refresh: load the catalogue inbox, build and publish the marts behind the quality gate,
write the static report. Thin: every task calls a function of the cstrack package."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=10)}


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
    @task
    def load_catalogues() -> list[dict]:
        from dataclasses import asdict

        from cstrack import orchestration, pipeline

        return [asdict(r) for r in pipeline.load_catalogue_inbox(orchestration.warehouse_from_connection())]

    @task(retries=0)  # a failed quality gate is a verdict, not a glitch: do not retry it
    def build_marts() -> dict[str, int]:
        from cstrack import orchestration, publish

        return publish.build(orchestration.warehouse_from_connection())

    @task
    def write_report() -> str:
        from cstrack import orchestration, report

        return str(report.write_report(orchestration.warehouse_from_connection()))

    load_catalogues() >> build_marts() >> write_report()


warehouse_refresh()
