"""build_marts: when a raw Asset is updated, build the marts into marts_build, validate them (GX
quality gate) and publish them into marts; then refresh the static report."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import AssetAny, dag, task

from cstrack.orchestration.assets import RAW_ASSETS
from cstrack.orchestration.progress import reported


@dag(
    dag_id="build_marts",
    schedule=AssetAny(*RAW_ASSETS),  # any new raw data, not all of it (a plain list means all)
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["cstrack", "build"],
    doc_md=__doc__,
)
def build_marts():
    @task(retries=0)  # a failed quality gate is a verdict, not a glitch: do not retry it
    @reported
    def build_and_publish() -> dict[str, int]:
        from cstrack.orchestration import airflow_glue
        from cstrack.publish import marts

        return marts.build(airflow_glue.warehouse_from_connection())

    @task(retries=2)
    @reported
    def write_report() -> str:
        from cstrack.orchestration import airflow_glue
        from cstrack.serve import report

        return str(report.write_report(airflow_glue.warehouse_from_connection()))

    build_and_publish() >> write_report()


build_marts()
