"""Airflow's web UI for the local warehouse: `cstrack airflow ui` (and `make airflow`), `cstrack airflow stop`.

Starts the processes of a production Airflow on this machine against the warehouse (embedded or WAREHOUSE_URL):
`airflow api-server` (the UI, the REST API and the tasks' execution API), `scheduler` (LocalExecutor),
`dag-processor` and `triggerer`, each in its own process group. Airflow's metadata is in its own database,
`cstrack_airflow_<warehouse database>`, of the warehouse's server (not the SQLite file `airflow dags test`
uses). The login is `admin` with a password generated once and kept in $CSTRACK_HOME/airflow-ui/passwords.json.
The DAGs are paused when Airflow first sees them (unpause what should run on its schedule; a manual trigger of a
paused DAG waits until it is unpaused). Ctrl-C, SIGTERM or `cstrack airflow stop` stops every process it started.
Logs: $CSTRACK_HOME/airflow-ui/<process>.log and the task logs under logs/.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import time
from pathlib import Path

import psycopg
from psycopg import sql

from cstrack import config, warehouse
from cstrack.errors import CstrackError
from cstrack.orchestration import airflow_glue
from cstrack.orchestration.scaleout import Cluster, answers, free_port

METADATA_DB = "cstrack_airflow_{}"  # per warehouse database: two warehouses on one server keep apart
USER = "admin"
PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")


def folder() -> Path:
    return config.home() / "airflow-ui"


def _state_path() -> Path:
    return folder() / "ui.json"  # pid and URL of the running `cstrack airflow ui`


def _started(pid: int) -> str | None:
    """When a process started (field 22 of /proc/<pid>/stat), so a reused pid is not taken for ours."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def running() -> dict | None:
    """The running UI's {"pid", "url"}, or None (the state file of a process that is gone is removed)."""
    path = _state_path()
    if not path.exists():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    if _started(state["pid"]) is None or _started(state["pid"]) != state.get("started"):
        path.unlink(missing_ok=True)
        return None
    return state


def password() -> str:
    """The admin password: generated once per $CSTRACK_HOME, in the file Airflow's simple auth manager reads."""
    path = folder() / "passwords.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({USER: secrets.token_urlsafe(12)}), encoding="utf-8")
        path.chmod(0o600)
    return json.loads(path.read_text(encoding="utf-8"))[USER]


def _metadata(wh: warehouse.Warehouse) -> warehouse.Warehouse:
    """Airflow's own database on the warehouse's server, created on first use."""
    name = METADATA_DB.format(wh.dbname)
    with psycopg.connect(wh.conninfo, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return dataclasses.replace(wh, dbname=name)


def environment(wh: warehouse.Warehouse, api_url: str) -> dict[str, str]:
    metadata = _metadata(wh)
    home = folder()
    password()  # the file exists before the api-server reads it
    return {
        **airflow_glue.airflow_env(wh),  # warehouse connection, DAG and plugin folders
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.url.replace("postgresql://", "postgresql+psycopg2://", 1),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",  # two cores
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


def _jwt_secret() -> str:
    """Signs the tasks' tokens; shared by the scheduler and the api-server, kept so restarts agree."""
    path = folder() / "jwt_secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")  # HS512 wants 64+ bytes
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def serve(wh: warehouse.Warehouse, port: int | None = None, ready_timeout: float = 240) -> None:
    """Start Airflow, print the URL and the login, run until Ctrl-C, SIGTERM or `cstrack airflow stop`."""
    other = running()
    if other:
        raise CstrackError(f"Airflow's UI is already running at {other['url']} (stop it: cstrack airflow stop)")
    warehouse.migrate(wh)
    folder().mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = environment(wh, api_url)
    node = Cluster("ui", folder(), env, metadata_url="", api_url=api_url)
    stopping = []

    def stop(signum, frame):  # SIGTERM (cstrack airflow stop) ends the wait below as Ctrl-C does
        stopping.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        print(f"preparing Airflow's metadata database {METADATA_DB.format(wh.dbname)} on {wh.describe()}", flush=True)
        airflow_glue.db_migrate(env)
        for name in PROCESSES:
            extra = ("--host", "127.0.0.1", "--port", str(port), "--workers", "1") if name == "api-server" else ()
            node.start(name, name, *extra)
        state = {"pid": os.getpid(), "started": _started(os.getpid()), "url": api_url}
        _state_path().write_text(json.dumps(state), encoding="utf-8")
        node.wait_until("the api-server", lambda: answers(f"{api_url}/api/v2/monitor/health"), ready_timeout)
        print(f"Airflow is running: {api_url}  (login: {USER} / {password()})", flush=True)
        print(f"logs: {folder()}; stop with Ctrl-C or `cstrack airflow stop`", flush=True)
        while True:
            node.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        # a second Ctrl-C or SIGTERM must not cut the stopping short (the processes run in their own sessions)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping Airflow", flush=True)
        node.stop()
        _state_path().unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def stop(timeout: float = 60) -> str:
    """Stop the running `cstrack airflow ui` (it stops its processes) and wait until it has."""
    state = running()
    if state is None:
        return "Airflow's UI is not running"
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running() is not None:
        if time.monotonic() > deadline:
            raise CstrackError(f"Airflow's UI (pid {state['pid']}) did not stop within {timeout:.0f} s")
        time.sleep(0.5)
    return f"Airflow's UI at {state['url']} stopped"
