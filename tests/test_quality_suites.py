"""The quality gates cover the whole warehouse: every raw table and every mart has a suite, and the
suites committed under expectations/gx/ are the ones suites.py defines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cstrack.quality import suites
from cstrack.quality.expectations import Suite

pytestmark = pytest.mark.fast  # no database, dbt build, browser or Airflow run

PROJECT = Path(__file__).resolve().parents[1]
GX = PROJECT / "expectations" / "gx"


def defined() -> dict[str, Suite]:
    return {s.name: s for s in suites.suites()}


def test_every_mart_model_has_a_suite():
    # compat/ holds views under the old names of renamed marts: they show a mart that has its suite
    models = (PROJECT / "dbt" / "models" / "marts").rglob("*.sql")
    marts = {f"marts.{p.stem}" for p in models if "compat" not in p.parts}
    assert marts, "no mart models found"
    assert marts - set(defined()) == set(), "marts without a quality suite"


def test_every_raw_table_has_a_suite():
    migrations = "\n".join(p.read_text() for p in (PROJECT / "plugins" / "cstrack" / "migrations").glob("*.sql"))
    # partitions (`create table raw.x partition of raw.y`) are validated through their parent table
    raw_tables = {f"raw.{t}" for t in re.findall(r"create table raw\.(\w+)(?! partition of)\b", migrations)}
    assert raw_tables and raw_tables - set(defined()) == set(), "raw tables without a quality suite"


def test_committed_suites_and_checkpoints_match_the_definitions():
    committed = {}
    for path in (GX / "expectations").rglob("*.json"):
        suite = json.loads(path.read_text())
        committed[suite["name"]] = suite
    assert set(committed) == set(defined()), "run `cstrack quality define` after changing suites.py"
    for name, suite in defined().items():
        types = sorted(e["type"] for e in committed[name]["expectations"])
        assert types == sorted(e.expectation_type for e in suite.expectations), name
        assert all(e["meta"]["severity"] in ("critical", "warning") for e in committed[name]["expectations"])
    gates = {json.loads(p.read_text())["name"]: json.loads(p.read_text()) for p in (GX / "checkpoints").glob("*.json")}
    marts_gate = {v["name"] for v in gates["marts_gate"]["validation_definitions"]}
    raw_gate = {v["name"] for v in gates["raw_gate"]["validation_definitions"]}
    assert marts_gate == {n for n in defined() if n.startswith("marts.")}
    assert raw_gate == {n for n in defined() if n.startswith("raw.")}


def test_the_committed_config_holds_no_secret_or_machine_path():
    config = (GX / "great_expectations.yml").read_text()
    assert "${WAREHOUSE_SQLA_URL}" in config
    assert "postgresql://" not in config and "/tmp/" not in config
