"""A loader killed with SIGKILL in the middle of its COPY leaves nothing visible; a re-run is exact."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

MAPPINGS = Path(__file__).resolve().parents[1] / "catalogues"
ROWS = 60_000


def big_export(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "description", "main_category", "extra_categories", "organization", "country",
                         "start_date", "end_date", "status", "data_accessibility", "accessibility_for_research",
                         "data_url", "project_information_url"])  # fmt: skip
        for i in range(ROWS):
            writer.writerow([f"Project {i}", "Citizens count birds.", "Ecology", "", "Org", "The Netherlands",
                             "2019", "", "ongoing", "Viewable", "Yes", "", f"https://example.org/p/{i}"])  # fmt: skip
    return path


def test_sigkill_during_copy_leaves_no_partial_batch(server_db, query, tmp_path):
    data = big_export(tmp_path / "awesome_cs_nl.csv")
    exe = Path(sys.executable).parent / "cstrack"
    loader = subprocess.Popen([str(exe), "load", "catalogue", str(MAPPINGS / "awesome_cs_nl.yml"), str(data)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    copying = False
    while time.monotonic() < deadline and loader.poll() is None and not copying:
        copying = bool(query(server_db, "select 1 from pg_stat_activity where datname = current_database()"
                                        " and query ilike 'copy raw.catalogue_record%%'"))  # fmt: skip
        time.sleep(0.02)
    assert copying and loader.poll() is None, "the loader finished before it could be killed: raise ROWS"
    os.kill(loader.pid, signal.SIGKILL)
    loader.wait()

    # the server notices the dead client and rolls its transaction back
    for _ in range(100):
        if not query(server_db, "select 1 from pg_stat_activity where datname = current_database()"
                                " and query ilike 'copy raw.catalogue_record%%'"):  # fmt: skip
            break
        time.sleep(0.1)
    assert query(server_db, "select count(*) from raw.catalogue_record")[0][0] == 0
    assert query(server_db, "select count(*) from ops.load_run where status = 'succeeded'")[0][0] == 0

    done = subprocess.run([str(exe), "load", "catalogue", str(MAPPINGS / "awesome_cs_nl.yml"), str(data)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert query(server_db, "select count(*) from raw.catalogue_record")[0][0] == ROWS
    assert query(server_db, "select rows_read, rows_loaded, rows_quarantined from ops.load_run"
                            " where status = 'succeeded'") == [(ROWS, ROWS, 0)]  # fmt: skip


def test_refresh_survives_a_postgres_restart_through_task_retries(home, query, capsys):
    """The server is down when the DAG starts and comes back once a task attempt has failed on it:
    that task's retry (10 s later) succeeds, the other tasks run, and the counts are exact."""
    import sqlite3
    import threading

    from cstrack import warehouse
    from cstrack.orchestration import airflow_glue

    wh, _ = warehouse.start()
    env = airflow_glue.airflow_env(wh)
    airflow_glue.ensure_metadata_db(env)  # so the DAG starts at once
    metadata = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    warehouse.stop()

    def restart_after_a_failed_attempt():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                with sqlite3.connect(metadata, timeout=1) as db:
                    if db.execute("select count(*) from task_instance where state = 'up_for_retry'").fetchone()[0]:
                        break
            except sqlite3.Error:
                pass  # Airflow is writing; look again
            time.sleep(0.5)
        warehouse.start()

    restart = threading.Thread(target=restart_after_a_failed_attempt)
    restart.start()
    try:
        airflow_glue.run_dag("warehouse_refresh", wh)
    finally:
        restart.join()
    output = capsys.readouterr().out
    assert "cannot connect to the warehouse" in output  # the first attempt really hit the stopped server
    assert query(wh, "select count(*) from marts.dim_project")[0][0] == 699  # as in test_refresh_end_to_end
    assert query(wh, "select count(*) from raw.catalogue_record")[0][0] == 640 + 84
    loads = dict(query(wh, "select source_kind, count(*) from ops.load_run where status = 'succeeded' group by 1"))
    assert loads == {"catalogue": 2, "crawl": 2, "survey": 6, "social": 3}  # each file loaded exactly once
