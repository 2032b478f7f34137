"""The GX suites as code: every expectation of the raw and marts gates, with its severity, declared per
domain next to each other (quality/catalogue.py, survey.py, social.py, operations.py; the building blocks in
quality/expectations.py).

`cstrack quality define` writes them into the GX file context in `expectations/gx/` (suites, data
assets, validation definitions and the checkpoints `raw_gate` and `marts_gate`), where they are
versioned and reviewed as JSON. Run it after changing a suite, against a warehouse where the
tables exist (GX checks each table when it registers it). Validation runs in SQL.
"""

from __future__ import annotations

from cstrack.errors import CstrackError
from cstrack.quality.expectations import Suite


def suites() -> list[Suite]:
    """Every suite: the raw gate's first, then the marts gate's, each in domain order."""
    from cstrack.quality import catalogue, operations, social, survey

    every = [s for domain in (catalogue, survey, social, operations) for s in domain.suites()]
    return [s for s in every if s.schema == "raw"] + [s for s in every if s.schema == "marts"]


def _missing_tables(wh, defined: list[Suite]) -> list[str]:
    from cstrack import warehouse

    with warehouse.connect(wh) as conn:
        present = {
            f"{schema}.{table}"
            for schema, table in conn.execute("select table_schema, table_name from information_schema.tables")
        }
    return [f"{s.asset_schema}.{s.table}" for s in defined if f"{s.asset_schema}.{s.table}" not in present]


def define(wh) -> list[str]:
    """(Re)write every suite, data asset, validation definition and both checkpoints; returns suite names."""
    import os
    import shutil

    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    from cstrack.quality import gates

    missing = _missing_tables(wh, suites())
    if missing:  # GX checks every asset on definition: say which, before anything committed is removed
        raise CstrackError(
            f"cannot define the suites: {', '.join(missing[:5])} {'does' if len(missing) == 1 else 'do'} not exist"
            " (build the marts into marts_build first: `cstrack build`, or `cstrack dbt build`)"
        )
    os.environ["WAREHOUSE_SQLA_URL"] = wh.sqlalchemy_url
    os.environ["CSTRACK_QUALITY_DIR"] = str(gates.quality_dir())
    root = gates.gx_dir()
    for folder in ("expectations", "validation_definitions", "checkpoints"):  # what is not defined here goes
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    context = gates.gx_context()
    for name in [d.name for d in context.data_sources.all().values()]:
        context.data_sources.delete(name)
    source = context.data_sources.add_sql("warehouse", connection_string="${WAREHOUSE_SQLA_URL}")
    checkpoints: dict[str, list] = {"raw_gate": [], "marts_gate": []}
    for suite in suites():
        name = f"{suite.asset_schema}.{suite.table}"
        if suite.scope:
            # offset 0: planned on its own, so a LIMIT that GX puts around it never turns the few scoped rows
            # into a walk along some index over the whole table
            asset = source.add_query_asset(name=name, query=f"select * from {name} where {suite.scope} offset 0")
        else:
            asset = source.add_table_asset(name=name, table_name=suite.table, schema_name=suite.asset_schema)
        batch = asset.add_batch_definition_whole_table("whole_table")
        stored = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=suite.expectations))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=stored)
        )
        checkpoints["raw_gate" if suite.schema == "raw" else "marts_gate"].append(definition)
    for gate, definitions in checkpoints.items():
        context.checkpoints.add(
            gx.Checkpoint(
                name=gate,
                validation_definitions=definitions,
                actions=[UpdateDataDocsAction(name="update_data_docs")],
                result_format="SUMMARY",
            )
        )
    return [s.name for s in suites()]
