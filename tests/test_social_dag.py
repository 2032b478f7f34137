"""ingest_social: imports, produces the raw.social_post Asset that build_marts is scheduled on."""

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
    assert [t.task_id for t in dag.tasks] == ["load_social"]
    assert {o.uri for o in dag.tasks[0].outlets} == {"postgres://warehouse:5432/cstrack/raw/social_post"}
    from cstrack.orchestration.assets import RAW_ASSETS

    assert "postgres://warehouse:5432/cstrack/raw/social_post" in {a.uri for a in RAW_ASSETS}
