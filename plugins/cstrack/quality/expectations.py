"""The building blocks of the GX suites: a Suite (one table's expectations), the severities, the scopes of an
incremental build, and short constructors for the expectations the domains use (quality/<domain>.py).

Severity: `critical` stops the publish, `warning` is recorded only. Critical guards only what must never
be published: broken keys, orphans, counts that do not add up, personal data, impossible values. A value
that is only unusual is handled before the gate (quarantined at load, or nulled in dbt with its reason) or
published with a warning, so it never stops every dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cstrack import config
from cstrack.constants import BUILD_SCHEMA, committed_after

CRITICAL = {"severity": "critical"}
WARNING = {"severity": "warning"}
BUILD = BUILD_SCHEMA  # the marts gate validates the candidate schema before the swap


def seed_values(seed: str, column: str) -> list[str]:
    """A controlled vocabulary, from its one home: the dbt seed (dbt/seeds/<seed>.csv)."""
    import csv

    with (config.seed_path(seed)).open(encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


@dataclass
class Suite:
    schema: str  # raw or marts (the published name; marts suites run on marts_build)
    table: str
    expectations: list = field(default_factory=list)
    # the rows an incremental build validates (a GX query asset); None: the whole table. ops.gate_scope
    # holds the newest load commit the build schema already held (0 for a full build: every row).
    scope: str | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def asset_schema(self) -> str:
        return BUILD if self.schema == "marts" else self.schema


# Written so that PostgreSQL plans an index scan for the few new rows (the scope is read at run time, so the
# planner cannot see the value): an array of load ids (not `in (select ...)`, which scans every monthly partition
# of raw.social_post), and a bounded range (constants.committed_after).
NEW_LOADS = (
    "_load_id = any(array(select load_id from ops.load_run"
    " where commit_seq > (select since_commit_seq from ops.gate_scope)))"
)
CHANGED_ROWS = committed_after("(select since_commit_seq from ops.gate_scope)")


def orphans(column: str, parent: str, parent_column: str | None = None) -> str:
    """Rows whose `column` has no match in a candidate mart (referential integrity)."""
    # GX substitutes {batch} with an aliased subquery: never alias it again
    return (
        f"select {column} from {{batch}} where {column} is not null and {column} not in "
        f"(select {parent_column or column} from {BUILD}.{parent} where {parent_column or column} is not null)"
    )


def gx():
    """GX's expectation classes; GX takes seconds to import, so only building the suites imports it."""
    import great_expectations.expectations as gxe

    return gxe


def rows(query: str, description: str, meta: dict = CRITICAL):
    return gx().UnexpectedRowsExpectation(unexpected_rows_query=query, description=description, meta=meta)


def not_null(column: str, meta: dict = CRITICAL, **kw):
    return gx().ExpectColumnValuesToNotBeNull(column=column, meta=meta, **kw)


def unique(*columns: str):
    if len(columns) == 1:
        return gx().ExpectColumnValuesToBeUnique(column=columns[0], meta=CRITICAL)
    return gx().ExpectCompoundColumnsToBeUnique(column_list=list(columns), meta=CRITICAL)


def in_set(column: str, values: list, meta: dict = CRITICAL):
    return gx().ExpectColumnValuesToBeInSet(column=column, value_set=values, meta=meta)


def between(column: str, low=None, high=None, meta: dict = CRITICAL, **kw):
    return gx().ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, meta=meta, **kw)


def some_rows():
    return gx().ExpectTableRowCountToBeBetween(min_value=1, meta=CRITICAL)


def rows_when_loaded(raw_table: str, mart: str):
    # a source not loaded yet leaves its marts empty, which is fine; loaded data must show up. The whole
    # table, not {batch}: an incremental build validates only the changed rows, which may be none.
    return rows(
        "select 1 as empty_mart where not exists (select 1 from"
        f" {BUILD}.{mart}) and exists (select 1 from raw.{raw_table})",
        f"not empty when raw.{raw_table} holds data",
    )
