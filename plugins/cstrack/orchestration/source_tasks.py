"""The tasks that bring one source kind's new data into raw, for both DAGs that load (its ingest DAG and
warehouse_refresh): its load task and, for a kind with an enrichment step (sources.Source.enrichment), the
enrichment mapped over parts of the landed data (dynamic task mapping: on Celery the parts run on every worker)
and the task that publishes the enriched loads to builds. The last task updates the kind's raw Assets."""

from __future__ import annotations

from airflow.sdk import task

from cstrack.orchestration.assets import outlets
from cstrack.orchestration.progress import reported
from cstrack.sources import Source


def ingest_tasks(source: Source):
    """Create the tasks of `source` in the DAG being defined; (first task, last task) for dependencies."""

    @task(task_id=source.task_id, outlets=[] if source.enrichment else outlets(source))
    @reported
    def load() -> list[dict]:
        from cstrack.orchestration import airflow_glue

        return airflow_glue.load_task(source.kind, enrich=False)

    loaded = load()
    if not source.enrichment:
        return loaded, loaded

    @task(task_id=f"plan_{source.kind}_enrichment")
    @reported
    def plan() -> list[list[str]]:
        from cstrack.orchestration import airflow_glue

        return source.enrichment_steps().enrichment_parts(airflow_glue.warehouse_from_connection())

    @task(task_id=f"enrich_{source.kind}")
    @reported
    def enrich(part: list[str]) -> str:
        from cstrack.orchestration import airflow_glue

        step = source.enrichment_steps()
        totals = step.enrich_months(part, airflow_glue.warehouse_from_connection())
        return f"{totals['months']} months: {totals['posts']:,} posts enriched, {totals['changed']:,} rows changed"

    # after every part, also when there was none (the mapped task is then skipped)
    @task(task_id=f"publish_{source.kind}", outlets=outlets(source), trigger_rule="none_failed")
    @reported
    def publish() -> str:
        from cstrack.orchestration import airflow_glue

        published = source.enrichment_steps().publish_enriched(airflow_glue.warehouse_from_connection())
        return f"{len(published)} loads enriched and published to builds"

    parts = plan()
    loaded >> parts
    published = publish()
    enrich.expand(part=parts) >> published
    return loaded, published
