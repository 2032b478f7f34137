"""The quality gates: GX Core checkpoints from `expectations/gx/`, validated in SQL.

`raw_gate` checks the raw tables before dbt runs; `marts_gate` checks the candidate marts in
`marts_build` (suites are named after the published table, `marts.dim_project`) before publishing.
A new suite needs a validation definition in its checkpoint. Each expectation carries
`meta.severity`: `critical` stops the publish, `warning` is recorded only. Every suite result goes
to `ops.quality_result`; the Data Docs are rebuilt under $CSTRACK_HOME/quality.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from cstrack import config, warehouse
from cstrack.constants import BUILD_SCHEMA
from cstrack.errors import QualityGateFailed

ASSET_SCHEMA = BUILD_SCHEMA


@dataclass
class SuiteOutcome:
    suite: str
    evaluated: int
    failed: list[dict] = field(default_factory=list)

    @property
    def critical(self) -> list[dict]:
        return [f for f in self.failed if f["severity"] == "critical"]


def gx_dir() -> Path:
    """The GX file context (suites, validation definitions, checkpoints), versioned in git."""
    return config.project_dir() / "expectations" / "gx"


def gx_context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx.get_context(mode="file", project_root_dir=str(gx_dir().parent))


def _describe(result) -> dict:
    cfg = result.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
    details = result.result or {}
    return {
        "expectation": cfg.type,
        "description": cfg.description,
        "kwargs": kwargs,
        "severity": (cfg.meta or {}).get("severity", "critical"),
        "unexpected_count": details.get("unexpected_count"),
        "element_count": details.get("element_count"),
        "observed_value": details.get("observed_value"),
        "sample": [str(v) for v in (details.get("partial_unexpected_list") or [])[:5]],
        "error": _exception(result),
    }


def _exception(result) -> str | None:
    """The first line of the error when an expectation could not even be evaluated (e.g. bad SQL)."""
    for info in _exception_infos(result.exception_info):
        if info.get("raised_exception"):
            return str(info.get("exception_message") or "").strip().splitlines()[0][:300]
    return None


def _exception_infos(info) -> list[dict]:
    if not isinstance(info, dict):
        return []
    return [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]


def failure_message(outcome: SuiteOutcome, failure: dict) -> str:
    column = failure["kwargs"].get("column") or failure["kwargs"].get("column_list")
    what = f"{failure['expectation']}({'column=' + str(column) if column else ''})"
    if failure.get("description"):
        what += f" [{failure['description']}]"
    if failure.get("error"):
        counts = f"could not be evaluated: {failure['error']}"
    elif failure["unexpected_count"] is not None:
        counts = f"{failure['unexpected_count']} of {failure['element_count']} rows unexpected"
        if failure["sample"]:
            counts += f", e.g. {', '.join(failure['sample'][:3])}"
    else:
        counts = f"observed {failure['observed_value']}"
    return f"suite {outcome.suite}: {what} failed: {counts}"


def quality_dir() -> Path:
    """Where GX keeps validation results and builds Data Docs: $CSTRACK_HOME/quality."""
    return config.home() / "quality"


def data_docs_index() -> Path:
    return quality_dir() / "data_docs" / "index.html"


def validate_raw(wh: warehouse.Warehouse, tables: set[str] | None = None) -> list[SuiteOutcome]:
    """The raw gate (checkpoint `raw_gate`): keys, vocabularies, volume against the previous load, freshness;
    with `tables`, only the suites of those raw tables (the ones that received loads)."""
    return run_gate("raw_gate", wh, "raw", None if tables is None else {f"raw.{t}" for t in tables})


def validate_marts(wh: warehouse.Warehouse, tables: set[str] | None = None) -> list[SuiteOutcome]:
    """The marts gate (checkpoint `marts_gate`): every `marts.*` suite on the candidate tables in marts_build;
    with `tables`, only the suites of those tables (what an incremental build rebuilt)."""
    return run_gate("marts_gate", wh, ASSET_SCHEMA, None if tables is None else {f"marts.{t}" for t in tables})


def run_gate(
    checkpoint: str, wh: warehouse.Warehouse, schema: str, suites: set[str] | None = None
) -> list[SuiteOutcome]:
    """Run a checkpoint (or only its `suites`), record the results in ops, rebuild the Data Docs; raise on a
    critical failure."""
    if suites is not None and not suites:
        print(f"  {checkpoint}: nothing to validate (no table of it changed)", flush=True)
        return []
    # the committed config holds only these templates, never a secret or a machine's path
    os.environ["WAREHOUSE_SQLA_URL"] = wh.sqlalchemy_url
    os.environ["CSTRACK_QUALITY_DIR"] = str(quality_dir())
    context = gx_context()
    seconds: dict[str, float] = {}  # per suite, when run one by one
    if suites is None:
        results = list(context.checkpoints.get(checkpoint).run().run_results.values())
    else:
        definitions = [d for d in context.checkpoints.get(checkpoint).validation_definitions if d.name in suites]
        results = []
        for definition in definitions:
            started = time.perf_counter()
            results.append(definition.run(result_format="SUMMARY"))
            seconds[definition.name] = time.perf_counter() - started
        context.build_data_docs()
    outcomes = []
    for suite_result in sorted(results, key=lambda r: r.suite_name):
        outcome = SuiteOutcome(
            suite_result.suite_name,
            len(suite_result.results),
            [_describe(r) for r in suite_result.results if not r.success],
        )
        outcomes.append(outcome)
        _record(wh, schema, outcome)
        warnings = len(outcome.failed) - len(outcome.critical)
        print(
            f"  quality {outcome.suite}: {outcome.evaluated - len(outcome.failed)}/{outcome.evaluated} passed"
            + (f", {len(outcome.critical)} critical failed" if outcome.critical else "")
            + (f", {warnings} warnings" if warnings else "")
            + (f" ({seconds[outcome.suite]:.1f} s)" if outcome.suite in seconds else ""),
            flush=True,
        )
    print(f"  Data Docs: {data_docs_index()}", flush=True)
    critical = [failure_message(o, f) for o in outcomes for f in o.critical]
    if critical:
        raise QualityGateFailed(f"quality gate {checkpoint} failed, nothing published: " + "; ".join(critical))
    return outcomes


def _record(wh: warehouse.Warehouse, schema: str, outcome: SuiteOutcome) -> None:
    with warehouse.connect(wh) as conn:
        conn.execute(
            "insert into ops.quality_result (suite, schema_name, success, evaluated, failed, critical_failed, summary)"
            " values (%s, %s, %s, %s, %s, %s, %s)",
            (
                outcome.suite,
                schema,
                not outcome.critical,
                outcome.evaluated,
                len(outcome.failed),
                len(outcome.critical),
                json.dumps(outcome.failed, default=str),
            ),
        )
