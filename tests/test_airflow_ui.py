"""`cstrack airflow ui`: Airflow's web UI on the embedded warehouse, used as a data engineer uses it. A real
api-server, scheduler (LocalExecutor), dag-processor and triggerer; headless Chromium logs in and sees the six
DAGs; the REST API triggers warehouse_refresh and the run publishes the marts; `cstrack airflow stop` leaves
nothing running."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from cstrack import warehouse
from cstrack.orchestration.scaleout import free_port

CSTRACK = Path(sys.executable).parent / "cstrack"
DAGS = ["build_marts", "ingest_catalogues", "ingest_crawl", "ingest_social", "ingest_survey", "warehouse_refresh"]


def processes_of(home: Path) -> list[int]:
    """Processes whose environment names this $CSTRACK_HOME's Airflow (what the UI started, and their children)."""
    found = []
    marker = f"AIRFLOW_HOME={home / 'airflow-ui'}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue  # the process ended while we looked, or is not ours to read
    return found


def test_airflow_ui_shows_the_dags_runs_the_refresh_and_stops_cleanly(home, cstrack, tmp_path):
    from playwright.sync_api import sync_playwright

    cstrack("warehouse", "start", check=True)
    ui = subprocess.Popen(
        [str(CSTRACK), "airflow", "ui", "--port", str(free_port())],
        env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in ui.stdout], daemon=True).start()
    try:
        output, deadline = [], time.monotonic() + 300
        while not any("Airflow is running" in line for line in output):
            assert time.monotonic() < deadline and ui.poll() is None, "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        found = re.search(r"Airflow is running: (http://\S+)\s+\(login: (\w+) / (\S+)\)", "".join(output))
        assert found, output
        url, user, password = found.groups()

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url + "/")
            page.get_by_label("Username").fill(user)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            # the login page matches url/** too: wait until the redirect after signing in has left it, or the
            # next goto collides with that navigation (net::ERR_ABORTED)
            page.wait_for_url(lambda address: address.startswith(url) and "/auth/" not in address)
            page.wait_for_load_state()
            page.goto(url + "/dags")
            for dag_id in DAGS:
                page.get_by_text(dag_id, exact=True).first.wait_for(timeout=60_000)
            assert page.get_by_text("6 Dags").count() == 1
            page.screenshot(path=str(tmp_path / "airflow-dags.png"))
            browser.close()

        token = httpx.post(f"{url}/auth/token", json={"username": user, "password": password}, timeout=30)
        api = httpx.Client(
            base_url=f"{url}/api/v2", headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=30
        )
        assert httpx.post(f"{url}/auth/token", json={"username": user, "password": "wrong"}).status_code == 401
        assert sorted(d["dag_id"] for d in api.get("/dags").raise_for_status().json()["dags"]) == DAGS
        api.patch("/dags/warehouse_refresh", json={"is_paused": False}).raise_for_status()
        run = api.post("/dags/warehouse_refresh/dagRuns", json={"logical_date": None}).raise_for_status().json()
        deadline = time.monotonic() + 600
        while (state := api.get(f"/dags/warehouse_refresh/dagRuns/{run['dag_run_id']}").json()["state"]) not in (
            "success", "failed",
        ):  # fmt: skip
            assert time.monotonic() < deadline and ui.poll() is None, f"the run is still {state}"
            time.sleep(3)
        tasks = api.get(f"/dags/warehouse_refresh/dagRuns/{run['dag_run_id']}/taskInstances").json()
        assert state == "success", [(t["task_id"], t["state"]) for t in tasks["task_instances"]]
        with warehouse.connect(warehouse.current()) as conn:
            assert conn.execute("select count(*) from marts.dim_project").fetchone()[0] == 699
    finally:
        stopped = cstrack("airflow", "stop")
        try:
            ui.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, 9)
            pytest.fail("cstrack airflow ui did not stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert ui.returncode == 0
    time.sleep(1)
    assert processes_of(home) == [], "Airflow processes left running"
    with pytest.raises(httpx.HTTPError):
        httpx.get(url, timeout=5)
    assert "not running" in cstrack("airflow", "stop", check=True).stdout
