"""dbt, run as one CLI call per build with the warehouse from the environment (dbt/profiles.yml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cstrack import config, warehouse
from cstrack.constants import BUILD_SCHEMA
from cstrack.errors import CstrackError


def dbt_env(wh: warehouse.Warehouse, marts_schema: str = BUILD_SCHEMA) -> dict[str, str]:
    home = config.home()
    return {
        **os.environ,
        **wh.tool_env(),
        "CSTRACK_MARTS_SCHEMA": marts_schema,
        "CSTRACK_DEV_SCHEMA": "",  # an analyst's prefix (cstrack dbt) never leaks into the warehouse's builds
        "DBT_TARGET_PATH": str(home / "dbt" / "target"),
        "DBT_LOG_PATH": str(home / "dbt" / "logs"),
        "DBT_PROFILES_DIR": str(config.project_dir() / "dbt"),
        "DBT_PROJECT_DIR": str(config.project_dir() / "dbt"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PARTIAL_PARSE": "true",
        "DBT_USE_COLORS": "false",
    }


# dbt commands that build or read relations: an analyst's run defers what it does not select to production
_DEFERRING = {"build", "run", "test", "seed", "snapshot", "compile", "show"}


def dev_schema(name: str | None = None) -> str:
    """The prefix of an analyst's schemas: dev_<name> (CSTRACK_DEV_SCHEMA, else the login name)."""
    import getpass
    import re

    chosen = name or os.environ.get("CSTRACK_DEV_SCHEMA") or f"dev_{getpass.getuser()}"
    chosen = re.sub(r"[^a-z0-9_]", "_", chosen.lower())
    if not chosen.startswith("dev_"):
        chosen = f"dev_{chosen}"
    return chosen


def analyst_command(args: list[str], wh: warehouse.Warehouse, schema: str) -> tuple[list[str], dict[str, str]]:
    """`dbt ARGS` as an analyst runs it (`cstrack dbt`): the warehouse's connection, every model built into
    <schema>_<its schema> (never marts: only `cstrack build` publishes), its own target folder, and what the
    selection leaves out read from the last `cstrack build` (--defer --state), unless ARGS say otherwise."""
    home = config.home()
    env = dbt_env(wh, marts_schema="marts") | {
        "CSTRACK_DEV_SCHEMA": schema,
        "DBT_TARGET_PATH": str(home / "dbt" / "dev-target"),
        "DBT_USE_COLORS": os.environ.get("DBT_USE_COLORS", "true"),
    }
    production = home / "dbt" / "target"
    given_state = any(a == "--state" or a.startswith("--state=") for a in args)
    if args and args[0] in _DEFERRING and not given_state and (production / "manifest.json").exists():
        args = [*args, "--defer", "--state", str(production)]
    return [dbt_executable(), *args], env


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: list[str], wh: warehouse.Warehouse | None = None, marts_schema: str = BUILD_SCHEMA) -> None:
    """Run `dbt ARGS`, streaming its progress; raise with the failing nodes (from run_results.json) on failure."""
    wh = wh or warehouse.current()
    command = [dbt_executable(), *args]
    results = config.home() / "dbt" / "target" / "run_results.json"
    results.unlink(missing_ok=True)  # what is there after the run is this run's
    process = subprocess.Popen(
        command, env=dbt_env(wh, marts_schema), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        tail = (tail + [line.strip()])[-5:]
    if process.wait() != 0:
        failures = failed_nodes(results)
        detail = "; ".join(failures[:5]) if failures else " / ".join(t for t in tail if t) or "see the dbt output above"
        raise CstrackError(f"dbt {args[0]} failed: {detail}")


def failed_nodes(results: Path) -> list[str]:
    """`node: message` of every node that errored or failed, from a run_results.json (none if it is missing:
    dbt stopped before running any node, e.g. on a parse error)."""
    if not results.exists():
        return []
    failed = []
    for result in json.loads(results.read_text(encoding="utf-8"))["results"]:
        if result["status"] in ("error", "fail", "runtime error"):
            node = result["unique_id"].split(".", 2)[-1]
            message = " ".join((result.get("message") or result["status"]).split())
            failed.append(f"{node}: {message[:300]}")
    return failed


def _artifact(name: str) -> dict:
    path = config.home() / "dbt" / "target" / name
    if not path.exists():
        raise CstrackError(f"dbt artifact {path} is missing: run a dbt build first")
    return json.loads(path.read_text())


def built_tables(schema: str = BUILD_SCHEMA) -> set[str]:
    """Tables of `schema` that the last dbt invocation (re)built, from its run_results.json."""
    nodes = _artifact("manifest.json")["nodes"]
    built = set()
    for result in _artifact("run_results.json")["results"]:
        node = nodes.get(result["unique_id"], {})
        if node.get("resource_type") in ("model", "seed", "snapshot") and node.get("schema") == schema:
            if result["status"] == "success":
                built.add(node.get("alias") or node["name"])
    return built


def incremental_keys(schema: str = BUILD_SCHEMA) -> dict[str, list[str]]:
    """Incremental models of `schema` -> their unique_key columns (from the manifest)."""
    keys = {}
    for node in _artifact("manifest.json")["nodes"].values():
        cfg = node.get("config", {})
        if (
            node.get("resource_type") == "model"
            and node.get("schema") == schema
            and cfg.get("materialized") == "incremental"
        ):
            key = cfg.get("unique_key")
            keys[node.get("alias") or node["name"]] = [key] if isinstance(key, str) else list(key)
    return keys


def selector(name: str) -> list[str]:
    """The --select arguments of a named selection in dbt/selectors.yml (CLI-style strings, or a union of them).

    dbt 1.11 takes one --selector and no --select beside it, so the planner unions the named ones itself."""
    import yaml

    path = config.project_dir() / "dbt" / "selectors.yml"
    definitions = {s["name"]: s["definition"] for s in yaml.safe_load(path.read_text(encoding="utf-8"))["selectors"]}
    if name not in definitions:
        raise CstrackError(f"{path}: no selector named {name!r}")
    definition = definitions[name]
    return [definition] if isinstance(definition, str) else list(definition["union"])
