"""Scale-out: warehouse_refresh on a real distributed Airflow on this machine (api-server, scheduler,
dag-processor, two Celery workers on the Redis at 127.0.0.1:6379, PostgreSQL metadata database).
Its tasks must run on both workers and publish the same marts as a local run without Airflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis

from cstrack import warehouse
from cstrack.orchestration import scaleout

SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")  # as conftest

REFRESH_TASKS = ("load_catalogues", "crawl_platforms", "load_surveys", "load_social", "plan_social_enrichment",
                 "enrich_social", "publish_social", "build_marts", "write_report", "export_ppsr")  # fmt: skip

# columns that say when or in which order something was loaded, or where the demo crawl listened:
# they differ between any two refreshes; every other column must be equal
RUN_COLUMNS = {
    "loaded_at", "first_loaded_at", "last_loaded_at", "started_at", "finished_at", "duration_seconds",
    "validated_at", "last_quarantined_at", "published_at", "load_id", "result_id", "source_file_name",
    "last_commit_seq", "build_state",  # the commit order of loads that ran in parallel
}  # fmt: skip
# marts that record the runs themselves (which tasks ran, in which run, how often): they differ by design
RUN_TABLES = {"rpt_task_runs"}


def marts_fingerprint(wh: warehouse.Warehouse) -> dict[str, tuple[int, str]]:
    """Every published table -> (row count, md5 of its sorted rows without the RUN_COLUMNS)."""
    with warehouse.connect(wh) as conn:
        columns: dict[str, list[str]] = {}
        for table, column in conn.execute("""select table_name, column_name from information_schema.columns
                                             where table_schema = 'marts' order by table_name, ordinal_position"""):
            columns.setdefault(table, []).append(column)
        fingerprint = {}
        for table, names in columns.items():
            if table in RUN_TABLES:
                continue
            kept = ", ".join(f'"{c}"' for c in names if c not in RUN_COLUMNS)
            fingerprint[table] = conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), ''))"
                f' from (select {kept} from marts."{table}") r'
            ).fetchone()
    return fingerprint


def column_checksums(wh: warehouse.Warehouse, table: str) -> dict[str, str]:
    """For a failure message: each column of marts.`table` -> md5 of its sorted values."""
    sql = """select md5(coalesce(string_agg("{0}"::text, '|' order by "{0}"::text), '')) from marts."{1}" """
    with warehouse.connect(wh) as conn:
        names = conn.execute("select column_name from information_schema.columns"
                             " where table_schema = 'marts' and table_name = %s", (table,)).fetchall()  # fmt: skip
        return {c: conn.execute(sql.format(c, table)).fetchone()[0] for (c,) in names}


def differing_columns(a: warehouse.Warehouse, b: warehouse.Warehouse, table: str) -> list[str]:
    sums_a, sums_b = column_checksums(a, table), column_checksums(b, table)
    return sorted(c for c in sums_a.keys() | sums_b.keys() if sums_a.get(c) != sums_b.get(c))


def test_refresh_on_celery_workers_matches_local_run(server_db, monkeypatch):
    started = time.monotonic()
    # both refreshes pseudonymise with the same key, so survey and social marts are comparable
    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "scaleout-test-key")

    # the reference: a second fresh database refreshed without Airflow, in parallel to save time
    reference_name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    reference_home = tempfile.mkdtemp(prefix="cst-ref-")
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{reference_name}"')
    reference_url = SERVER.rsplit("/", 1)[0] + "/" + reference_name
    local_log = Path(reference_home) / "refresh.log"
    with open(local_log, "wb") as log:
        # the DAG's steps up to publishing (the report and the PPSR export only read the marts)
        steps = "pipeline.load_everything(wh); marts.build(wh)"
        local = subprocess.Popen(
            [sys.executable, "-c",
             "from cstrack import warehouse; from cstrack.orchestration import pipeline;"
             f" from cstrack.publish import marts; wh = warehouse.current(); {steps}"],
            env={**os.environ, "WAREHOUSE_URL": reference_url, "CSTRACK_HOME": reference_home},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        with scaleout.cluster(server_db, workers=2) as airflow:
            run = airflow.run_dag("warehouse_refresh", timeout=420)
            with psycopg.connect(airflow.metadata_url) as meta:
                dag_state = meta.execute("select state from dag_run where run_id = %s", (run.run_id,)).fetchone()[0]
                ran = meta.execute(
                    "select task_id, state, hostname from task_instance where dag_id = 'warehouse_refresh'"
                    " and run_id = %s order by task_id", (run.run_id,),
                ).fetchall()  # fmt: skip
                enrichment = meta.execute(
                    "select map_index, state, hostname from task_instance where dag_id = 'warehouse_refresh'"
                    " and run_id = %s and task_id = 'enrich_social' order by map_index", (run.run_id,),
                ).fetchall()  # fmt: skip
            processes = list(airflow.processes.values())
            redis_broker = airflow.env["AIRFLOW__CELERY__BROKER_URL"]
            metadata_db = airflow.metadata_url.rsplit("/", 1)[1]
        assert local.wait(timeout=300) == 0, local_log.read_text()[-3000:]
        reference = warehouse.Warehouse.from_url(reference_url)

        assert dag_state == "success"
        states = {task: state for task, state, _ in ran}
        assert {states.get(task) for task in REFRESH_TASKS} == {"success"}, ran
        assert set(states.values()) <= {"success", "skipped"}, ran
        # each Celery worker runs one task at a time and reports its own hostname: both took part
        assert {host for _, _, host in ran} == {"worker-1", "worker-2"}, ran
        # the social enrichment ran as mapped task instances, one per part of the demo's months, each on a worker
        # (which worker takes which part is Celery's choice: both when both are free)
        assert [(index, state) for index, state, _ in enrichment] == [(0, "success"), (1, "success")], enrichment
        assert {host for *_, host in enrichment} <= {"worker-1", "worker-2"}
        print(f"enrich_social parts ran on {[host for *_, host in enrichment]}")

        # the same marts as the local run: every table, its row count and its rows
        distributed, local_marts = marts_fingerprint(server_db), marts_fingerprint(reference)
        assert {"dim_project", "bridge_project_source", "fct_indicator_value"} <= distributed.keys()
        assert distributed["dim_project"][0] > 0
        differing = sorted(
            t for t in distributed.keys() | local_marts.keys() if distributed.get(t) != local_marts.get(t)
        )
        assert not differing, {t: differing_columns(server_db, reference, t) for t in differing}

        # nothing the cluster started survives it: processes, metadata database, broker queue
        for process in processes:
            assert process.poll() is not None
            try:
                os.killpg(process.pid, 0)
                raise AssertionError(f"process group {process.pid} ({process.args}) is still alive")
            except ProcessLookupError:
                pass
        with psycopg.connect(SERVER) as conn:
            assert (
                conn.execute("select count(*) from pg_database where datname = %s", (metadata_db,)).fetchone()[0] == 0
            )
        assert redis.Redis.from_url(redis_broker).dbsize() == 0
    finally:
        if local.poll() is None:
            local.kill()
            local.wait()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{reference_name}" with (force)')
        shutil.rmtree(reference_home, ignore_errors=True)
    print(f"scale-out test took {time.monotonic() - started:.0f} s")
