"""`cstrack dbt`: an analyst's loop on the demo warehouse (a real dbt, a real PostgreSQL, dbt's docs site over
real HTTP on loopback): build a model and what depends on it into dev_<name>_* schemas, see it in the docs,
and never change what is published in marts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cstrack import warehouse
from cstrack.orchestration.scaleout import free_port

DEV = "dev_ana"


def marts_fingerprint(wh) -> dict[str, str]:
    with warehouse.connect(wh) as conn:
        tables = [t for (t,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " and table_type = 'BASE TABLE' order by 1"
        ).fetchall()]  # fmt: skip
        checksum = "select md5(string_agg(m::text, '' order by m::text)) from marts.{} m"
        return {t: conn.execute(checksum.format(f'"{t}"')).fetchone()[0] for t in tables}


def test_analyst_builds_a_model_into_a_dev_schema_and_reads_the_docs(demo_warehouse, cstrack):
    env = demo_warehouse.env
    before = marts_fingerprint(demo_warehouse.wh)

    built = cstrack("dbt", "--dev-schema", "ana", "build", "-s", "stg_catalogue__records+", env=env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    assert f"models into {DEV}_*" in built.stdout and "Completed successfully" in built.stdout
    with warehouse.connect(demo_warehouse.wh) as conn:
        schemas = {s for (s,) in conn.execute("select nspname from pg_namespace where nspname like 'dev_ana%'")}
        dev_projects = conn.execute(f"select count(*) from {DEV}_marts.dim_project").fetchone()[0]
        published = conn.execute("select count(*) from marts.dim_project").fetchone()[0]
    assert {f"{DEV}_staging", f"{DEV}_intermediate", f"{DEV}_marts"} <= schemas
    assert dev_projects == published  # the same model on the same raw data
    assert marts_fingerprint(demo_warehouse.wh) == before  # only `cstrack build` publishes

    # a selection that leaves its parents out reads them from the last `cstrack build` (--defer --state)
    alone = cstrack("dbt", "--dev-schema", "ana", "run", "-s", "dim_indicator", env=env)
    assert alone.returncode == 0, alone.stdout[-2000:]
    with warehouse.connect(demo_warehouse.wh) as conn:
        counts = conn.execute(
            f"select (select count(*) from {DEV}_marts.dim_indicator), (select count(*) from marts.dim_indicator),"
            f" to_regnamespace('{DEV}_vocab') is null"
        ).fetchone()
    assert counts[0] == counts[1] > 0 and counts[2]  # its seed came from production (vocab), not rebuilt

    docs = cstrack("dbt", "--dev-schema", "ana", "docs", "generate", env=env)
    assert docs.returncode == 0, docs.stdout[-2000:]
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "cstrack"), "dbt", "--dev-schema", "ana",
         "docs", "serve", "--port", str(port), "--no-browser"],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        manifest = None
        deadline = time.monotonic() + 60
        while manifest is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json", timeout=5) as answer:
                    manifest = json.load(answer)
            except OSError:
                time.sleep(0.5)
        assert manifest is not None, "dbt docs serve did not answer"
        assert manifest["nodes"]["model.cstrack.dim_project"]["schema"] == f"{DEV}_marts"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            assert b'ng-app="dbt"' in answer.read()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert marts_fingerprint(demo_warehouse.wh) == before


@pytest.mark.fast
def test_an_analysts_prefix_never_reaches_the_warehouse_build(monkeypatch, tmp_path):
    """CSTRACK_DEV_SCHEMA left exported in a shell must not send `cstrack build` into dev_* schemas."""
    from cstrack.transform import dbt

    monkeypatch.setenv("CSTRACK_HOME", str(tmp_path))
    monkeypatch.setenv("CSTRACK_DEV_SCHEMA", "dev_ana")
    wh = warehouse.Warehouse(host="127.0.0.1")
    assert dbt.dbt_env(wh)["CSTRACK_DEV_SCHEMA"] == ""
    command, env = dbt.analyst_command(["build", "-s", "x"], wh, dbt.dev_schema())
    assert env["CSTRACK_DEV_SCHEMA"] == "dev_ana" and env["CSTRACK_MARTS_SCHEMA"] == "marts"
    assert "--defer" not in command  # no build yet: nothing to defer to
    (tmp_path / "dbt" / "target").mkdir(parents=True)
    (tmp_path / "dbt" / "target" / "manifest.json").write_text("{}")
    assert dbt.analyst_command(["run"], wh, "dev_ana")[0][-3:] == [
        "--defer",
        "--state",
        str(tmp_path / "dbt" / "target"),
    ]
    assert "--defer" not in dbt.analyst_command(["run", "--state=/x"], wh, "dev_ana")[0]
    assert dbt.dev_schema("Ana Lyst") == "dev_ana_lyst"
