"""Every source kind of the registry (cstrack.sources.SOURCES) is wired everywhere it must be: its loaders
resolve, its raw tables are created by a migration and validated by the raw gate, its DAG and its task in
warehouse_refresh exist and produce its Assets, build_marts waits for them, the build planner and dbt know its
dbt source, and the CLI loads its files. A new entry that misses one of these fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cstrack import sources
from cstrack.quality import suites
from cstrack.transform import dbt

pytestmark = pytest.mark.fast

PROJECT = Path(__file__).resolve().parents[1]
MIGRATIONS = "\n".join(p.read_text() for p in sorted((PROJECT / "plugins/cstrack/migrations").glob("*.sql")))


@pytest.fixture
def dagbag(home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT / "dags"))
    assert bag.import_errors == {}
    return bag


def dbt_source_names() -> set[str]:
    names = set()
    for path in (PROJECT / "dbt/models/staging").rglob("_*__sources.yml"):
        names |= {s["name"] for s in yaml.safe_load(path.read_text())["sources"]}
    return names


@pytest.mark.parametrize("source", sources.SOURCES, ids=lambda s: s.kind)
def test_loaders_resolve(source):
    assert callable(source.loader())
    if source.load_file:
        assert callable(sources.resolve(source.load_file))


@pytest.mark.parametrize("source", sources.SOURCES, ids=lambda s: s.kind)
def test_raw_tables_are_created_and_gated(source):
    gated = {s.table for s in suites.suites() if s.schema == "raw"}
    for table in source.raw_tables:
        assert re.search(rf"create table raw\.{table}\b", MIGRATIONS), f"no migration creates raw.{table}"
        assert table in gated, f"the raw gate has no suite for raw.{table}"


@pytest.mark.parametrize("source", sources.SOURCES, ids=lambda s: s.kind)
def test_dags_run_the_load_and_produce_the_assets(source, dagbag):
    from cstrack.orchestration.assets import RAW_ASSETS, outlets

    expected = {a.uri for a in outlets(source)}
    ingest = dagbag.dags[source.dag_id]
    # the load task, then, for a kind that is enriched after landing, the enrichment and the task publishing it:
    # the last one updates the Assets and precedes the refresh's build
    last = f"publish_{source.kind}" if source.enrichment else source.task_id
    expected_tasks = {source.task_id, last} | (
        {f"plan_{source.kind}_enrichment", f"enrich_{source.kind}"} if source.enrichment else set()
    )
    assert {t.task_id for t in ingest.tasks} == expected_tasks
    assert {o.uri for o in ingest.get_task(last).outlets} == expected
    assert ingest.schedule == source.schedule
    refresh_task = dagbag.dags["warehouse_refresh"].get_task(last)
    assert {o.uri for o in refresh_task.outlets} == expected
    assert "build_marts" in refresh_task.downstream_task_ids
    assert expected <= {a.uri for a in RAW_ASSETS}  # build_marts is scheduled on any of RAW_ASSETS


@pytest.mark.parametrize("source", sources.SOURCES, ids=lambda s: s.kind)
def test_the_build_planner_and_dbt_know_its_source(source):
    from cstrack.publish import marts

    assert source.dbt_source in sources.dbt_sources()
    assert dbt.selector(f"changed_{source.dbt_source}"), "dbt/selectors.yml needs changed_<dbt source>"
    dbt_name = "raw" if source.dbt_source == "catalogue" else f"raw_{source.dbt_source}"
    assert dbt_name in dbt_source_names()
    assert f"source:{dbt_name}+" in dbt.selector(f"changed_{source.dbt_source}")
    previous = {"fingerprint": "f", "commit_seq": {k: 1 for k in sources.dbt_sources()}}
    current = {"fingerprint": "f", "commit_seq": {**previous["commit_seq"], source.dbt_source: 2}}
    plan = marts.plan_build(previous, current, full_refresh=False)
    assert plan.full is any(s.full_rebuild for s in sources.SOURCES if s.dbt_source == source.dbt_source)
    if not plan.full:
        assert plan.changed == [source.dbt_source]


@pytest.mark.parametrize("source", [s for s in sources.SOURCES if s.load_file], ids=lambda s: s.kind)
def test_the_cli_loads_its_files(source):
    from cstrack.cli import build_parser

    argv = ["load", source.kind, "definition.yml", "file.csv"] if source.definition else ["load", source.kind, "f"]
    assert build_parser().parse_args(argv).kind == source.kind


def test_inbox_folders_exist_in_the_bundled_sample():
    for source in sources.SOURCES:
        if source.inbox_folder:
            assert (PROJECT / "data" / "sample" / source.inbox_folder).is_dir(), source.inbox_folder
