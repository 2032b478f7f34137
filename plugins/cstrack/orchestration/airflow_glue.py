"""Airflow glue: the warehouse from the Airflow connection, and local DAG runs with `airflow dags test`.

Locally AIRFLOW_HOME sits under $CSTRACK_HOME with SQLite metadata; no scheduler is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from cstrack import config, warehouse
from cstrack.errors import CstrackError

CONN_ID = "warehouse"


def warehouse_from_connection(conn_id: str = CONN_ID) -> warehouse.Warehouse:
    """Inside a task: the warehouse named by the Airflow connection (AIRFLOW_CONN_WAREHOUSE)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return warehouse.Warehouse(
        host=conn.host or "localhost",
        port=int(conn.port or 5432),
        user=conn.login or "postgres",
        password=conn.password or "",
        dbname=conn.schema or "postgres",
    )


def load_task(kind: str, enrich: bool = True) -> list[dict]:
    """The body of every load task (ingest DAGs and warehouse_refresh): what is new for one source kind,
    each file's LoadResult as a dict (the task's XCom). `enrich=False`: landing only, the DAG enriches."""
    from dataclasses import asdict

    from cstrack.orchestration import pipeline

    return [asdict(result) for result in pipeline.load_source(kind, warehouse_from_connection(), enrich=enrich)]


def airflow_env(wh: warehouse.Warehouse) -> dict[str, str]:
    home = config.home()
    project = config.project_dir()
    return {
        **os.environ,
        **wh.tool_env(),
        "CSTRACK_HOME": str(home),
        "CSTRACK_INBOX": str(config.inbox()),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(project / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "airflow" / "logs"),
    }


def _airflow() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def db_migrate(env: dict[str, str]) -> None:
    """`airflow db migrate` on the metadata database of `env`; its last line of error on failure."""
    done = subprocess.run([_airflow(), "db", "migrate"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise CstrackError(f"airflow db migrate failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")


def ensure_metadata_db(env: dict[str, str]) -> None:
    """`airflow db migrate` once per $CSTRACK_HOME (and again after an Airflow upgrade)."""
    from importlib.metadata import version

    marker = Path(env["AIRFLOW_HOME"]) / f".migrated-{version('apache-airflow')}"
    if marker.exists():
        return
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    print("preparing Airflow's metadata database (first run only)", flush=True)
    db_migrate(env)
    marker.touch()


def run_dag(dag_id: str, wh: warehouse.Warehouse, verbose: bool = False, plain: bool | None = None) -> None:
    """Run every task of DAG `dag_id` in-process with `airflow dags test`; raise if the run failed.

    Shows one line per task (run_display.RunDisplay); Airflow's and dbt's output goes to $CSTRACK_HOME/logs/<run>/
    (`verbose`: printed as well, as before)."""
    from cstrack.orchestration.run_display import RunDisplay

    env = airflow_env(wh)
    ensure_metadata_db(env)
    print(f"running DAG {dag_id} with `airflow dags test`", flush=True)
    display = RunDisplay(dag_id, verbose=verbose, plain=plain)
    process = subprocess.Popen(
        [_airflow(), "dags", "test", dag_id], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    tail: list[str] = []
    try:
        for line in process.stdout:
            display.line(line)
            tail = (tail + [line.rstrip()])[-200:]
    except BaseException:  # Ctrl-C or an error here: the run does not go on without us
        process.terminate()
        process.wait()
        raise
    finally:
        display.close()
    code = process.wait()
    if code != 0 or any("state=failed" in line for line in tail):
        # the task's own one-line reason, from the traceback Airflow logged (`cstrack.errors.X: reason`)
        reasons = [m.group(1) for line in tail if (m := re.search(r"cstrack\.errors\.\w+: (.+)$", line))]
        raise CstrackError(f"DAG {dag_id} failed: " + (reasons[-1] if reasons else f"airflow exited with {code}"))
