from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"


def test_dagbag_imports_without_errors(home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    dag = bag.dags["warehouse_refresh"]
    assert [t.task_id for t in dag.topological_sort()] == ["load_catalogues", "build_marts", "write_report"]


def test_build_marts_is_scheduled_on_the_asset_ingest_produces(home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    produced = {o.uri for t in bag.dags["ingest_catalogues"].tasks for o in t.outlets}
    assert produced == {"postgres://warehouse:5432/cstrack/raw/catalogue_record"}
    consumed = {a.uri for a in bag.dags["build_marts"].timetable.asset_condition.objects}
    assert consumed == produced
