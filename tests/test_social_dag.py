"""ingest_social: imports; lands, enriches in mapped tasks, then publishes, which produces the raw.social_post
Asset that build_marts is scheduled on."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.fast  # no database, dbt build, browser or Airflow run

DAGS = Path(__file__).resolve().parents[1] / "dags"


def test_ingest_social_produces_the_asset_build_marts_waits_for(home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "ingest.py"))
    assert bag.import_errors == {}
    dag = bag.dags["ingest_social"]
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks) == {"load_social", "plan_social_enrichment", "enrich_social", "publish_social"}
    assert tasks["plan_social_enrichment"].upstream_task_ids == {"load_social"}
    assert tasks["enrich_social"].upstream_task_ids == {"plan_social_enrichment"}
    assert type(tasks["enrich_social"]).__name__.endswith("MappedOperator")  # one task per part of the months
    assert tasks["publish_social"].upstream_task_ids == {"enrich_social"}
    assert tasks["publish_social"].trigger_rule == "none_failed"  # also when no part was mapped (nothing new)
    # the Asset is updated once the posts are enriched and visible to builds, not when they land
    assert tasks["load_social"].outlets == []
    assert {o.uri for o in tasks["publish_social"].outlets} == {"postgres://warehouse:5432/cstrack/raw/social_post"}
    from cstrack.orchestration.assets import RAW_ASSETS

    assert "postgres://warehouse:5432/cstrack/raw/social_post" in {a.uri for a in RAW_ASSETS}
