"""Scale-out on one machine: a real distributed Airflow (CeleryExecutor) that runs the warehouse DAGs.

`cluster(wh)` creates, for one run, a PostgreSQL metadata database (on the server of
CSTRACK_SCALEOUT_POSTGRES, default 127.0.0.1:5432) and claims an empty Redis database (on
CSTRACK_SCALEOUT_REDIS, default 127.0.0.1:6379) as the Celery broker, runs `airflow db migrate`, then
starts the production processes, each in its own process group: `airflow api-server` (REST and
execution API, on a free port), `airflow scheduler`, `airflow dag-processor` and N `airflow celery
worker`s with concurrency 1. `Cluster.run_dag` triggers a DAG through the REST API and waits for it.
On exit, also after a failure or a timeout, every process is stopped (SIGTERM, then SIGKILL), the
metadata database is dropped and the Redis database emptied. Logs stay under
$CSTRACK_HOME/scaleout/<run>/.

The tasks reach the warehouse exactly as in a local run: AIRFLOW_CONN_WAREHOUSE from
`airflow_glue.airflow_env`. What the components must share, and why:
- AIRFLOW__API_AUTH__JWT_SECRET: the scheduler signs each task's token, the api-server checks it when
  the worker's task process calls the execution API;
- AIRFLOW__CORE__EXECUTION_API_SERVER_URL: where workers' task processes report state, XComs, logs;
- the metadata database, the broker and the result backend.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import redis
from psycopg.conninfo import conninfo_to_dict

from cstrack import config, warehouse
from cstrack.errors import CstrackError
from cstrack.orchestration import airflow_glue

POSTGRES = os.environ.get("CSTRACK_SCALEOUT_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("CSTRACK_SCALEOUT_REDIS", "redis://127.0.0.1:6379")
_CLAIM_KEY = "cstrack:scaleout:owner"


def worker_hostname() -> str:
    """`[core] hostname_callable` of the cluster. Airflow records in task_instance.hostname the host that ran
    a task; workers on one machine would all report the same one, so each worker names itself through
    CSTRACK_WORKER_HOSTNAME, as separate machines would (the other components keep the real name)."""
    return os.environ.get("CSTRACK_WORKER_HOSTNAME") or socket.getfqdn()


@dataclass
class TaskRun:
    task_id: str
    state: str | None
    hostname: str


@dataclass
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    tasks: list[TaskRun]
    seconds: float


@dataclass
class Cluster:
    run: str  # names the metadata database, the log folder and the DAG run
    folder: Path
    env: dict[str, str]
    metadata_url: str  # psycopg URL of the metadata database
    api_url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, *args: str, extra_env: dict[str, str] | None = None) -> None:
        with open(self.folder / f"{name}.log", "wb") as log:
            # its own process group, so stopping it also stops the task processes it forked
            self.processes[name] = subprocess.Popen(
                [airflow_glue._airflow(), *args],
                env={**self.env, **(extra_env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.folder / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise CstrackError(
                    f"airflow {name} exited with {process.returncode}; its log ({self.folder / name}.log) ends:\n"
                    + self.log_tail(name)
                )

    def wait_until(self, what: str, ready, timeout: float) -> None:
        """Poll `ready()` every second until it is true; fail early if a process died."""
        deadline = time.monotonic() + timeout
        while not ready():
            self.check_alive()
            if time.monotonic() > deadline:
                raise CstrackError(f"timed out after {timeout:.0f} s waiting for {what}; logs in {self.folder}")
            time.sleep(1)

    def api(self) -> httpx.Client:
        # with simple_auth_manager_all_admins, GET /auth/token hands out an admin token without credentials
        token = httpx.get(f"{self.api_url}/auth/token", timeout=30).json()["access_token"]
        return httpx.Client(base_url=f"{self.api_url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def run_dag(self, dag_id: str, timeout: float = 900) -> DagRunResult:
        """Unpause and trigger `dag_id`, print task progress, wait for the run to end; raise if it failed."""
        started = time.monotonic()
        with self.api() as api:
            self.wait_until(f"the dag-processor to parse {dag_id}",
                            lambda: api.get(f"/dags/{dag_id}").status_code == 200, timeout=180)  # fmt: skip
            api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
            run_id = f"scaleout_{self.run}"
            api.post(f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": None}).raise_for_status()
            print(f"triggered {dag_id} run {run_id}", flush=True)
            seen: dict[str, tuple] = {}
            while True:
                self.check_alive()
                state = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").raise_for_status().json()["state"]
                answer = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").raise_for_status().json()
                tasks = [TaskRun(t["task_id"], t["state"], t["hostname"] or "") for t in answer["task_instances"]]
                for t in sorted(tasks, key=lambda t: t.task_id):
                    if seen.get(t.task_id) != (t.state, t.hostname):
                        seen[t.task_id] = (t.state, t.hostname)
                        where = f" on {t.hostname}" if t.hostname else ""
                        print(
                            f"  [{time.monotonic() - started:4.0f} s] {t.task_id}: {t.state or 'waiting'}{where}",
                            flush=True,
                        )
                if state in ("success", "failed"):
                    break
                if time.monotonic() - started > timeout:
                    raise CstrackError(
                        f"DAG {dag_id} did not finish within {timeout:.0f} s (state {state}); logs in {self.folder}"
                    )
                time.sleep(2)
        result = DagRunResult(dag_id, run_id, state, tasks, time.monotonic() - started)
        if state != "success":
            failed = [t.task_id for t in tasks if t.state not in ("success", "skipped")]
            raise CstrackError(
                f"DAG {dag_id} run {run_id} {state}: tasks {', '.join(failed)}; task logs under {self.folder}/logs"
            )
        return result

    def stop(self, grace: float = 20) -> None:
        """SIGTERM every process group, then SIGKILL what is still alive after `grace` seconds."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)  # also the group's leftovers when the leader has exited
            process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _claim_redis_db(client_url: str, run: str) -> int:
    """An empty Redis database (1..15) for this run's broker; the claim key makes concurrent runs pick
    different ones."""
    for db in range(1, 16):
        client = redis.Redis.from_url(f"{client_url}/{db}")
        if client.dbsize() == 0 and client.set(_CLAIM_KEY, run, nx=True):
            return db
    raise CstrackError(f"no empty Redis database on {client_url} for the Celery broker")


@contextmanager
def cluster(wh: warehouse.Warehouse, workers: int = 2, ready_timeout: float = 240) -> Iterator[Cluster]:
    """A running distributed Airflow for the warehouse `wh`; everything it started is removed on exit."""
    if workers < 1:
        raise CstrackError("the cluster needs at least one worker")
    began = time.monotonic()
    run = f"{time.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(3)}"
    folder = config.home() / "scaleout" / run
    folder.mkdir(parents=True)
    # tasks on different workers pseudonymise at once: create the shared key before they race to
    config.pseudonym_key()

    server = conninfo_to_dict(POSTGRES)
    dbname = f"airflow_scaleout_{run}"
    auth = server.get("user", "postgres") + (f":{server['password']}" if server.get("password") else "")
    where = f"{server.get('host', '127.0.0.1')}:{server.get('port', 5432)}/{dbname}"
    metadata_url = f"postgresql://{auth}@{where}"
    redis_db = None
    print(f"scale-out run {run}: metadata database {dbname}, logs in {folder}", flush=True)
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'create database "{dbname}"')
    try:
        redis_db = _claim_redis_db(REDIS, run)
        port = free_port()
        api_url = f"http://127.0.0.1:{port}"
        env = {
            **airflow_glue.airflow_env(wh),  # warehouse connection, dbt/GX settings, DAG and plugin folders
            "AIRFLOW_HOME": str(folder),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(folder / "logs"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{auth}@{where}",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"{REDIS}/{redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{auth}@{where}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),  # HS512 wants 64+ bytes
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # local demo: no login
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "cstrack.orchestration.scaleout.worker_hostname",
            # only the DAG we trigger runs (not the Asset-scheduled ones)
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # parse the DAG files once: they do not change during the run, and CPU is scarce
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        }
        node = Cluster(run, folder, env, metadata_url, api_url)
        try:
            print("migrating Airflow's metadata database", flush=True)
            airflow_glue.db_migrate(env)
            node.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
            node.start("scheduler", "scheduler")
            node.start("dag-processor", "dag-processor")
            for n in range(1, workers + 1):
                name = f"worker-{n}"
                # no log server: every worker writes to the same local log folder, and one port would clash
                node.start(name, "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", "1",
                           "--skip-serve-logs", extra_env={"CSTRACK_WORKER_HOSTNAME": name})  # fmt: skip
            print(f"started api-server on {api_url}, scheduler, dag-processor, {workers} Celery workers", flush=True)
            node.wait_until("the api-server", lambda: answers(f"{api_url}/api/v2/monitor/health"), ready_timeout)
            # trigger only once every worker listens, or the first one up would take every task
            for n in range(1, workers + 1):
                node.wait_until(
                    f"worker-{n}", lambda n=n: " ready." in node.log_tail(f"worker-{n}", 400), ready_timeout
                )
            print(f"all components ready after {time.monotonic() - began:.0f} s", flush=True)
            yield node
        finally:
            print("stopping Airflow", flush=True)
            node.stop()
    finally:
        if redis_db is not None:
            redis.Redis.from_url(f"{REDIS}/{redis_db}").flushdb()
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{dbname}" with (force)')


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def run_refresh(wh: warehouse.Warehouse, workers: int = 2, timeout: float = 900) -> DagRunResult:
    """`cstrack airflow scaleout-demo`: warehouse_refresh on a fresh distributed Airflow, then tear it down."""
    warehouse.migrate(wh)
    with cluster(wh, workers=workers) as node:
        result = node.run_dag("warehouse_refresh", timeout=timeout)
    hosts = sorted({t.hostname for t in result.tasks if t.hostname})
    print(f"warehouse_refresh succeeded in {result.seconds:.0f} s; tasks ran on {', '.join(hosts)}", flush=True)
    return result
