"""infra/: the production docker compose file's structure (no Docker engine runs here)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

INFRA = Path(__file__).resolve().parents[1] / "infra"
COMPOSE = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
RUNNING = {name: s for name, s in SERVICES.items() if name != "airflow-init" and not s.get("profiles")}
# the services that run the Airflow image (the `cstrack` tool service runs it too, under a profile)
AIRFLOW = {
    name: s
    for name, s in SERVICES.items()
    if s.get("image", "").startswith("cstrack/airflow") and not s.get("profiles")
}
ENV_EXAMPLE = dict(
    line.split("=", 1)
    for line in (INFRA / ".env.example").read_text().splitlines()
    if line and not line.startswith("#")
)


@pytest.mark.fast
def test_every_production_service_is_there():
    assert set(SERVICES) >= {
        "warehouse", "redis", "airflow-db", "airflow-init", "airflow-apiserver", "airflow-scheduler",
        "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "metabase", "metabase-db",
    }  # fmt: skip
    commands = {name: SERVICES[name]["command"] for name in AIRFLOW if name != "airflow-init"}
    assert commands == {
        "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler", "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer", "airflow-worker": "celery worker",
    }  # fmt: skip


@pytest.mark.fast
def test_airflow_runs_celery_on_redis_with_its_own_metadata_database():
    for name, service in AIRFLOW.items():
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:"), name
        assert "@airflow-db:" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert "@airflow-db:" in env["AIRFLOW__CELERY__RESULT_BACKEND"], name
        assert "@warehouse:5432/cstrack" in env["AIRFLOW_CONN_WAREHOUSE"], name


@pytest.mark.fast
def test_metabase_has_its_own_application_database():
    # production runs the Metabase line whose API the stand-in checks (../shared/metabase: 0.57)
    assert SERVICES["metabase"]["image"].startswith("metabase/metabase:v0.57.")
    manifest = (Path(__file__).resolve().parents[2] / "shared" / "metabase" / "fixtures" / "MANIFEST.json").read_text()
    assert "metabase/metabase:v0.57" in manifest
    env = SERVICES["metabase"]["environment"]
    assert env["MB_DB_TYPE"] == "postgres" and env["MB_DB_HOST"] == "metabase-db"
    assert SERVICES["metabase-db"]["environment"]["POSTGRES_DB"] == env["MB_DB_DBNAME"]


@pytest.mark.fast
@pytest.mark.parametrize("name", sorted(RUNNING))
def test_long_running_services_have_healthchecks(name):
    check = RUNNING[name].get("healthcheck")
    assert check and check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: no healthcheck"
    assert RUNNING[name].get("restart") == "always", f"{name}: restart policy"


@pytest.mark.fast
def test_dependencies_wait_for_health_or_completion():
    for name, service in SERVICES.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions (long syntax)"
        for dep, spec in depends.items():
            assert dep in SERVICES, f"{name} depends on unknown service {dep}"
            if dep == "airflow-init":
                assert spec == {"condition": "service_completed_successfully"}, name
            else:
                assert spec == {"condition": "service_healthy"}, f"{name} -> {dep}"
                assert SERVICES[dep].get("healthcheck"), f"{name} waits for {dep}, which has no healthcheck"
    for name in AIRFLOW:
        if name != "airflow-init":
            assert {"airflow-init", "redis", "airflow-db", "warehouse"} <= set(SERVICES[name]["depends_on"]), name
    assert "airflow-apiserver" in SERVICES["airflow-worker"]["depends_on"]  # tasks talk to the execution API


@pytest.mark.fast
def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest" and "$" not in image and re.search(r"\d", tag), f"{name}: {image!r}"
    dockerfile = (INFRA / "airflow.Dockerfile").read_text()
    [base] = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert re.fullmatch(r"apache/airflow:3\.\d+\.\d+-python3\.\d+", base)
    for source in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (INFRA.parent / path).exists(), f"airflow.Dockerfile copies missing {path}"


@pytest.mark.fast
def test_every_referenced_variable_is_in_env_example_without_secrets():
    text = (INFRA / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}", text))
    assert referenced, "the compose file reads its settings from the environment"
    missing = sorted(referenced - set(ENV_EXAMPLE))
    assert missing == [], f"not in infra/.env.example: {missing}"
    for key, value in ENV_EXAMPLE.items():
        if re.search(r"PASSWORD|SECRET|_KEY$", key):
            assert value in ("change-me", ""), f".env.example must not hold a secret: {key}"
    for key in ("CSTRACK_REPORTER_PASSWORD", "CSTRACK_PSEUDONYM_KEY", "METABASE_USER", "METABASE_PASSWORD"):
        assert key in ENV_EXAMPLE


@pytest.mark.fast
def test_init_sql_creates_roles_and_database_without_literal_passwords():
    mounts = SERVICES["warehouse"]["volumes"]
    for mount in mounts:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (INFRA / source).exists(), f"warehouse mounts missing {source}"
    sql = (INFRA / "postgres" / "init-warehouse.sql").read_text()
    assert "create role cstrack_reporter login password :'reporter_password'" in sql
    assert "create database cstrack owner cstrack" in sql
    assert re.findall(r"password\s+'", sql) == []  # passwords come from psql variables only
    script = (INFRA / "postgres" / "init-warehouse.sh").read_text()
    assert '-v reporter_password="$CSTRACK_REPORTER_PASSWORD"' in script and "init-warehouse.sql" in script
    # the healthcheck waits for the database the init script creates
    assert "-d cstrack" in " ".join(SERVICES["warehouse"]["healthcheck"]["test"])


@pytest.mark.fast
def test_metabase_sync_tool_reaches_metabase_and_the_warehouse_by_service_name():
    tool = SERVICES["cstrack"]
    env = tool["environment"]
    assert tool["entrypoint"] == ["cstrack"] and tool["profiles"] == ["tools"]
    assert env["METABASE_URL"] == "http://metabase:3000" and env["METABASE_WAREHOUSE_HOST"] == "warehouse"
    assert env["CSTRACK_REPORTER_PASSWORD"] == "${CSTRACK_REPORTER_PASSWORD}"


def test_init_sql_runs_on_postgres(tmp_path):
    """The init script's SQL on the real server, with its names prefixed so it cannot meet the roles other tests use."""
    import subprocess
    import uuid

    import psycopg

    server = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
    prefix = f"zz{uuid.uuid4().hex[:6]}"
    sql = (INFRA / "postgres" / "init-warehouse.sql").read_text()
    sql = re.sub(r"\bcstrack(?!_password)", prefix, sql)  # role and database names, not the psql variable
    script = tmp_path / "init.sql"
    script.write_text(sql)
    try:
        done = subprocess.run(
            ["psql", "-X", "-q", server, "-v", "cstrack_password=owner-pw", "-v", "reporter_password=reader-pw",
             "-f", str(script)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr
        reporter = server.rsplit("/", 1)[0].replace("postgres@", f"{prefix}_reporter:reader-pw@") + f"/{prefix}"
        with psycopg.connect(reporter) as conn:
            assert conn.execute("show default_transaction_read_only").fetchone()[0] == "on"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{prefix}" with (force)')
            for role in ("reporter", "loader", "transformer"):
                conn.execute(f'drop role if exists "{prefix}_{role}"')
            conn.execute(f'drop role if exists "{prefix}"')
