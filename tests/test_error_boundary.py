"""The one error boundary: every failure of `cstrack` is one line `cstrack: error: <what>: <why>`, exit
code 2, never a traceback; an unexpected one leaves its traceback in $CSTRACK_HOME/logs/. Airflow tasks
fail with the same line. Contracts (dashboards, the platform registry) are refused by type, and a YAML
bomb is refused at once."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from cstrack.errors import CstrackError, one_line, task_errors

BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()  # progress may come before: the error is the last line, and one line
    errors = [line for line in lines if line.startswith("cstrack: error: ")]
    assert errors == lines[-1:], done.stderr
    return lines[-1]


@pytest.mark.fast
def test_an_unexpected_error_is_one_line_with_its_traceback_in_the_logs(home, cstrack):
    """An error no code path expected (here: an output folder under a file) still ends in one line; its
    traceback is kept in $CSTRACK_HOME/logs/ and named in that line, and --debug prints it."""
    env = {"CSTRACK_HOME": str(home)}
    line = one_line_error(cstrack("generate", "--out", "/dev/null/inbox", "--projects", "5", env=env))
    assert "/dev/null/inbox" in line and "(traceback: " in line
    log = Path(line.rsplit("(traceback: ", 1)[1].rstrip(")"))
    assert log.parent == home / "logs" and "Traceback (most recent call last)" in log.read_text()
    debug = cstrack("--debug", "generate", "--out", "/dev/null/inbox", "--projects", "5", env=env)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("cstrack: error: ")


@pytest.mark.fast
def test_a_warehouse_that_does_not_answer_is_one_line(home, cstrack):
    env = {"CSTRACK_HOME": str(home), "WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    line = one_line_error(cstrack("export", "ppsr", env=env))
    assert line.startswith("cstrack: error: cannot connect to the warehouse (PostgreSQL at 127.0.0.1:1")


@pytest.mark.fast
def test_a_yaml_bomb_is_refused_at_once(home, cstrack, tmp_path):
    folder = tmp_path / "dashboards"
    folder.mkdir()
    (folder / "bomb.yml").write_text(BOMB)
    started = time.monotonic()
    line = one_line_error(cstrack("dashboards", "check", "--dashboards", str(folder)))
    assert time.monotonic() - started < 5  # the process start; the refusal itself is instant (below)
    assert "bomb.yml" in line and "aliases" in line

    from cstrack import specs

    started = time.monotonic()
    with pytest.raises(CstrackError, match="aliases"):
        specs.parse_yaml(BOMB, "bomb.yml")
    assert time.monotonic() - started < 1


@pytest.mark.fast
def test_a_dashboard_spec_of_a_wrong_type_names_the_key(cstrack, tmp_path):
    folder = tmp_path / "dashboards"
    folder.mkdir()
    (folder / "wrong.yml").write_text(
        "dashboard: wrong\ntitle: Wrong\ncards:\n  - id: a\n    title: A\n    display: scalar\n"
        "    sql: select 1 as n from marts.dim_project\n    y: n\n    units: {n: projects}\n"
        "    description: [not, text]\n"
    )
    line = one_line_error(cstrack("dashboards", "check", "--dashboards", str(folder)))
    assert "wrong.yml" in line and "cards.0.description" in line


@pytest.mark.fast
def test_a_platform_registry_of_a_wrong_type_names_the_key(tmp_path):
    from cstrack.ingest.crawl import load_platforms

    registry = tmp_path / "platforms.yml"
    registry.write_text(
        "platforms:\n  - id: nl\n    name: NL\n    base_url: https://example.org\n    country: NL\n"
        "    language: nl\n    method: jsonld\n    jsonld: {listing_urls: [/p], link_selector: a, types: Project}\n"
    )
    with pytest.raises(CstrackError, match=r"platforms\.0\.jsonld\.types: 'Project' is not of type 'array'"):
        load_platforms(registry)
    registry.write_text(BOMB)
    with pytest.raises(CstrackError, match="aliases"):
        load_platforms(registry)


def test_the_warehouse_stopping_during_a_load_is_one_line_and_loads_nothing(server_db, home, tmp_path):
    """The load's connection is terminated by the server half-way (as when PostgreSQL stops): one line,
    exit 2, the load recorded as failed and none of its rows in raw."""
    mapping = tmp_path / "bulk.yml"
    mapping.write_text("source: bulk\nformat: csv\nid: id\nfields:\n  title: title\n  description: description\n")
    data = tmp_path / "bulk.csv"
    with data.open("w") as handle:
        handle.write("id,title,description\n")
        for n in range(300_000):
            handle.write(f"{n},Project {n},A description of project {n} with some words in it\n")
    env = {**os.environ, "WAREHOUSE_URL": server_db.url, "CSTRACK_HOME": str(home)}
    exe = Path(sys.executable).parent / "cstrack"
    process = subprocess.Popen(
        [str(exe), "load", "catalogue", str(mapping), str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        with psycopg.connect(server_db.url, autocommit=True) as conn:
            while time.monotonic() < deadline and process.poll() is None:
                running = conn.execute("select count(*) from ops.load_run where status = 'running'").fetchone()[0]
                copying = conn.execute(
                    "select count(*) from pg_stat_activity where datname = current_database() and query ilike 'copy%'"
                ).fetchone()[0]
                if running or copying:
                    time.sleep(0.5)  # well into the COPY
                    conn.execute(
                        "select pg_terminate_backend(pid) from pg_stat_activity"
                        " where datname = current_database() and pid <> pg_backend_pid()"
                    )
                    break
                time.sleep(0.05)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    line = one_line_error(done)
    assert "warehouse connection failed" in line
    with psycopg.connect(server_db.url) as conn:
        assert conn.execute("select count(*) from raw.catalogue_record").fetchone()[0] == 0
        statuses = [r[0] for r in conn.execute("select status from ops.load_run where source_system = 'bulk'")]
    assert statuses == ["failed"]


@pytest.mark.fast
def test_an_airflow_task_fails_with_the_same_line(caplog):
    @task_errors
    def load_something():
        raise ValueError("cannot convert 'x'\nsecond line")

    with caplog.at_level(logging.ERROR, logger="cstrack"), pytest.raises(CstrackError) as raised:
        load_something()
    assert str(raised.value) == "unexpected ValueError: cannot convert 'x'"
    assert isinstance(raised.value.__cause__, ValueError)
    assert caplog.messages == ["cstrack: error: unexpected ValueError: cannot convert 'x'"]
    assert one_line(CstrackError("a.csv: row 3:\n bad")) == "a.csv: row 3: bad"
