from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"


def test_dagbag_imports_without_errors(home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    dag = bag.dags["warehouse_refresh"]
    assert [t.task_id for t in dag.topological_sort()] == ["load_catalogues", "build_marts", "write_report"]
