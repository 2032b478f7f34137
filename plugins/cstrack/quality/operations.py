"""Quality suites of what spans the domains: the operations marts (what the data-quality dashboard reads)
and the indicators."""

from __future__ import annotations

from cstrack.quality.expectations import (
    Suite,
    between,
    not_null,
    orphans,
    rows,
    some_rows,
    unique,
)


def suites() -> list[Suite]:
    return [
        Suite(
            "marts",
            "rpt_load_summary",
            [
                unique("load_id"),
                rows(
                    "select load_id, rows_read, rows_loaded, rows_quarantined from {batch}"
                    " where status = 'succeeded' and rows_read <> rows_loaded + rows_quarantined",
                    "counts reconcile: rows read = loaded + quarantined",
                ),
            ],
        ),
        Suite("marts", "rpt_quality_summary", [unique("result_id")]),
        Suite("marts", "rpt_task_runs", [unique("task_run_id"), not_null("task_id")]),
        Suite("marts", "rpt_quarantine_summary", [between("rows_quarantined", 1, None)]),
        # --- indicators
        Suite("marts", "dim_indicator", [some_rows(), unique("indicator_code"), not_null("name")]),
        Suite(
            "marts",
            "fct_indicator_value",
            [
                some_rows(),
                unique("indicator_code", "period", "geography", "dimension", "dimension_value"),
                rows(orphans("indicator_code", "dim_indicator"), "every indicator value has a definition"),
                rows(
                    "select indicator_code, dimension_value, n from {batch} where suppressed and value is not null",
                    "suppression honoured: a suppressed value is null",
                ),
                rows(
                    "select indicator_code, dimension_value, n, value from {batch}"
                    " where not suppressed and indicator_code like 'SRV\\_%' escape '\\' and n < 5",
                    "small cells: a survey value from fewer than 5 respondents is suppressed",
                ),
                rows(
                    "select indicator_code, dimension_value, numerator, denominator from {batch}"
                    " where numerator > denominator and indicator_code like 'LAND\\_%' escape '\\'",
                    "a landscape share never exceeds its whole",
                ),
            ],
        ),
    ]
