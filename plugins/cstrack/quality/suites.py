"""The GX suites as code: every expectation of the raw and marts gates, with its severity.

`cstrack quality define` writes them into the GX file context in `expectations/gx/` (suites, data
assets, validation definitions and the checkpoints `raw_gate` and `marts_gate`), where they are
versioned and reviewed as JSON. Run it after changing this file, against a warehouse where the
tables exist (GX checks each table when it registers it). Validation runs in SQL.

Severity: `critical` stops the publish, `warning` is recorded only. Critical guards only what must never
be published: broken keys, orphans, counts that do not add up, personal data, impossible values. A value
that is only unusual is handled before the gate (quarantined at load, or nulled in dbt with its reason) or
published with a warning, so it never stops every dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cstrack import config
from cstrack.constants import BUILD_SCHEMA
from cstrack.errors import CstrackError

CRITICAL = {"severity": "critical"}
WARNING = {"severity": "warning"}
BUILD = BUILD_SCHEMA  # the marts gate validates the candidate schema before the swap


def seed_values(seed: str, column: str) -> list[str]:
    """A controlled vocabulary, from its one home: the dbt seed (dbt/seeds/<seed>.csv)."""
    import csv

    with (config.project_dir() / "dbt" / "seeds" / f"{seed}.csv").open(encoding="utf-8", newline="") as handle:
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


NEW_LOADS = (
    "_load_id in (select load_id from ops.load_run where commit_seq > (select since_commit_seq from ops.gate_scope))"
)
CHANGED_ROWS = "last_commit_seq > (select since_commit_seq from ops.gate_scope)"


def _orphans(column: str, parent: str, parent_column: str | None = None) -> str:
    """Rows whose `column` has no match in a candidate mart (referential integrity)."""
    # GX substitutes {batch} with an aliased subquery: never alias it again
    return (
        f"select {column} from {{batch}} where {column} is not null and {column} not in "
        f"(select {parent_column or column} from {BUILD}.{parent} where {parent_column or column} is not null)"
    )


def suites() -> list[Suite]:
    import great_expectations.expectations as gxe

    def rows(query: str, description: str, meta: dict = CRITICAL):
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=query, description=description, meta=meta)

    def not_null(column: str, meta: dict = CRITICAL, **kw):
        return gxe.ExpectColumnValuesToNotBeNull(column=column, meta=meta, **kw)

    def unique(*columns: str):
        if len(columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=columns[0], meta=CRITICAL)
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns), meta=CRITICAL)

    def in_set(column: str, values: list, meta: dict = CRITICAL):
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values, meta=meta)

    def between(column: str, low=None, high=None, meta: dict = CRITICAL, **kw):
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, meta=meta, **kw)

    def some_rows():
        return gxe.ExpectTableRowCountToBeBetween(min_value=1, meta=CRITICAL)

    def rows_when_loaded(raw_table: str, mart: str):
        # a source not loaded yet leaves its marts empty, which is fine; loaded data must show up. The whole
        # table, not {batch}: an incremental build validates only the changed rows, which may be none.
        return rows(
            "select 1 as empty_mart where not exists (select 1 from"
            f" {BUILD}.{mart}) and exists (select 1 from raw.{raw_table})",
            f"not empty when raw.{raw_table} holds data",
        )

    return [
        # --- raw ---------------------------------------------------------------------------------
        Suite(
            "raw",
            "catalogue_record",
            [
                not_null("source_system"),
                not_null("source_record_id"),
                not_null("record"),
                unique("_load_id", "source_record_id"),
                gxe.ExpectColumnValuesToMatchRegex(column="source_system", regex="^[a-z][a-z0-9_]*$", meta=CRITICAL),
                rows(
                    """
            with loads as (
                select source_system, load_id, rows_loaded,
                       lag(rows_loaded) over (partition by source_system order by load_id) as previous_rows,
                       row_number() over (partition by source_system order by load_id desc) as newest
                from ops.load_run
                where source_kind in ('catalogue', 'crawl') and status = 'succeeded'
                  and source_system in (select distinct source_system from {batch})
            )
            select source_system, load_id, rows_loaded, previous_rows from loads
            where newest = 1 and rows_loaded < 0.5 * previous_rows""",
                    "volume: a catalogue's or platform's latest load holds"
                    " at least half the records of its previous load",
                    WARNING,
                ),
                rows(
                    """
            select source_system, max(_loaded_at) as last_loaded from {batch}
            group by source_system having max(_loaded_at) < now() - interval '45 days'""",
                    "freshness: every catalogue and platform was loaded within the last 45 days",
                    WARNING,
                ),
            ],
        ),
        Suite(
            "raw",
            "crawl_page",
            [
                not_null("platform"),
                not_null("url"),
                not_null("outcome"),
                in_set("outcome", ["fetched", "not_modified", "failed", "oversized", "disallowed", "refused"], WARNING),
                rows(
                    """
            select platform, crawl_id, flag_reason from ops.crawl_run
            where flagged and platform in (select distinct platform from {batch})
              and crawl_id in (select max(crawl_id) from ops.crawl_run group by platform)""",
                    "volume: a platform's latest crawl did not return far fewer projects than its previous one",
                    WARNING,
                ),
            ],
        ),
        Suite(
            "raw",
            "survey_answer",
            [
                not_null("respondent_key"),
                not_null("item"),  # value: null is a missing answer, kept for shares
                unique("_load_id", "respondent_key", "item"),
                gxe.ExpectColumnValueLengthsToEqual(column="respondent_key", value=32, meta=CRITICAL),
            ],
            scope=NEW_LOADS,
        ),
        Suite(
            "raw",
            "survey_respondent",
            [
                not_null("respondent_key"),
                unique("_load_id", "respondent_key"),
                gxe.ExpectColumnValueLengthsToEqual(column="respondent_key", value=32, meta=CRITICAL),
            ],
            scope=NEW_LOADS,
        ),
        Suite(
            "raw", "survey_item", [not_null("item"), not_null("construct"), unique("_load_id", "item")], scope=NEW_LOADS
        ),
        Suite("raw", "survey_free_text", [not_null("respondent_key"), not_null("answer")], scope=NEW_LOADS),
        Suite(
            "raw",
            "social_post",
            [
                not_null("platform"),
                not_null("post_id"),
                not_null("author_pseudonym"),
                unique("_load_id", "platform", "post_id"),
                in_set("kind", ["original", "repost", "quote", "reply"]),
                between("like_count", 0, None),
                between("repost_count", 0, None),
            ],
            scope=NEW_LOADS,
        ),
        # --- marts: catalogue ---------------------------------------------------------------------
        Suite(
            "marts",
            "dim_project",
            [
                rows_when_loaded("catalogue_record", "dim_project"),
                not_null("project_key"),
                unique("project_key"),
                not_null("title"),
                in_set("status", seed_values("ppsr_status", "status")),
                in_set("geographic_extent", seed_values("ppsr_geographic_extent", "extent")),
                # int_catalogue__records nulls years outside 1600 .. next year + 10 (with date_rejected_reason), so
                # one here is a bug; bounds in SQL, so they move with the calendar
                rows(
                    "select project_key, start_year, end_year from {batch} where start_year not between 1600 and"
                    " extract(year from current_date)::int + 11 or end_year not"
                    " between 1600 and extract(year from current_date)::int + 11",
                    "project years lie within 1600 .. next year + 10 (dbt nulls the others)",
                ),
                gxe.ExpectColumnValuesToBeNull(
                    column="date_rejected_reason",
                    meta=WARNING,
                    description="no start or end year was nulled for lying outside 1600 .. next year + 10",
                ),
                rows(
                    "select project_key, start_year, end_year from {batch} where end_year < start_year",
                    "a project does not end before it starts",
                    WARNING,
                ),
                gxe.ExpectColumnValuesToMatchRegex(column="url", regex="^https?://", mostly=0.95, meta=WARNING),
                not_null("status", WARNING, mostly=0.9),
                between("n_sources", 1, None),
                gxe.ExpectColumnValuesToMatchRegex(column="language", regex="^[a-z]{2}$", meta=CRITICAL),
            ],
        ),
        Suite(
            "marts",
            "bridge_project_source",
            [
                not_null("project_key"),
                unique("source_system", "source_record_id"),
                in_set("match_rule", ["url", "title", "single"]),
                rows(_orphans("project_key", "dim_project"), "every source record belongs to a published project"),
                rows(
                    f"select project_key from {BUILD}.dim_project where project_key not in "
                    "(select project_key from {batch})",
                    "every project has at least one source record",
                ),
            ],
        ),
        Suite(
            "marts",
            "bridge_project_country",
            [
                gxe.ExpectColumnValuesToMatchRegex(column="country_code", regex="^[A-Z]{2}$", meta=CRITICAL),
                unique("project_key", "country_code"),
                rows(_orphans("project_key", "dim_project"), "every country row belongs to a published project"),
            ],
        ),
        Suite(
            "marts",
            "bridge_project_sdg",
            [
                between("sdg", 1, 17),
                in_set("relevance", ["direct", "indirect", "inferred"]),
                unique("project_key", "sdg"),
                rows(_orphans("project_key", "dim_project"), "every SDG row belongs to a published project"),
            ],
        ),
        Suite(
            "marts",
            "bridge_project_topic",
            [
                unique("project_key", "topic"),
                in_set("origin", ["source", "inferred"]),
                rows(
                    "select topic from {batch} where topic not in (select topic from vocab.topic)",
                    "topics come from the EU-Citizen.Science vocabulary",
                ),
                rows(_orphans("project_key", "dim_project"), "every topic row belongs to a published project"),
            ],
        ),
        Suite(
            "marts",
            "rpt_sdg_tagging_evaluation",
            [
                between("sdg_precision", 0, 1),
                between("sdg_recall", 0, 1),
            ],
        ),
        # --- marts: survey -------------------------------------------------------------------------
        Suite(
            "marts",
            "fct_survey_response",
            [
                rows_when_loaded("survey_answer", "fct_survey_response"),
                not_null("respondent_key"),
                unique("survey", "wave", "respondent_key", "construct"),
                between("share_answered", 0, 1),
                rows(
                    "select survey, wave, construct, score from {batch} where"
                    " score < (select min(scale_min) from raw.survey_item)"
                    " or score > (select max(scale_max) from raw.survey_item)",
                    "construct scores lie within the item scales",
                ),
            ],
        ),
        Suite(
            "marts",
            "agg_survey_construct_reliability",
            [
                rows_when_loaded("survey_answer", "agg_survey_construct_reliability"),
                unique("survey", "wave", "construct"),
                between("cronbach_alpha", None, 1),
                between("cronbach_alpha_std", None, 1),
                between("n_items", 2, None, WARNING),
            ],
        ),
        Suite(
            "marts",
            "agg_survey_construct_by_segment",
            [
                unique("survey", "wave", "construct", "dimension", "dimension_value"),
                rows(
                    "select survey, wave, construct, dimension, dimension_value, n from {batch}"
                    " where n < 5 and (not suppressed or mean_score is not null or sd_score is not null"
                    " or ci_low is not null or ci_high is not null)",
                    "suppression honoured: a segment of fewer than 5 respondents shows no statistic",
                ),
            ],
        ),
        Suite(
            "marts",
            "agg_survey_construct_trend",
            [
                unique("survey", "construct", "wave"),
                rows(
                    "select survey, construct, wave, n from {batch} where"
                    " n < 5 and (not suppressed or mean_score is not null)",
                    "suppression honoured in trends",
                ),
            ],
        ),
        # --- marts: social -------------------------------------------------------------------------
        Suite(
            "marts",
            "fct_social_post",
            [
                rows_when_loaded("social_post", "fct_social_post"),
                unique("post_key"),
                unique("platform", "post_id"),
                not_null("author_pseudonym"),
                in_set("kind", ["original", "repost", "quote", "reply"]),
                rows(_orphans("project_key", "dim_project"), "linked posts point at published projects"),
                rows(
                    "select post_key from {batch} where author_handle is not null and not is_project_account",
                    "privacy: only project accounts keep a handle",
                ),
                between("engagement", 0, None),
                # the loader quarantines posts dated outside these bounds: one here would break every social card.
                # As text: GX reads the rows into Python, which has no date before year 1 or after 9999
                rows(
                    "select post_key, posted_at::text as posted_at from {batch}"
                    " where posted_at < timestamptz '2006-03-21 00:00+00'"
                    " or posted_at > now() + interval '1 day'",
                    "posts are dated from 2006-03-21 (the first tweet) to tomorrow",
                ),
            ],
            scope=CHANGED_ROWS,
        ),
        Suite(
            "marts",
            "agg_social_engagement_monthly",
            [
                unique("project_key", "month"),
                rows(
                    "select project_key, month from {batch} where original_posts + reposts + quotes + replies <> posts"
                    " or unique_authors > posts",
                    "post counts add up",
                ),
            ],
        ),
        Suite("marts", "agg_social_hashtag_monthly", [unique("month", "hashtag"), between("posts", 1, None)]),
        Suite(
            "marts",
            "agg_social_posts_monthly",
            [
                unique("month", "platform", "kind", "project_key"),
                between("posts", 1, None),
                rows(_orphans("project_key", "dim_project"), "linked posts point at published projects"),
                rows(
                    f"select 1 as posts_lost where (select coalesce(sum(posts), 0) from {{batch}})"
                    f" <> (select count(*) from {BUILD}.fct_social_post)",
                    "counts add up: the posts of every month, platform and project are the posts of fct_social_post",
                ),
            ],
        ),
        Suite(
            "marts",
            "agg_social_authors_monthly",
            [
                unique("month", "project_key", "author_pseudonym"),
                not_null("author_pseudonym"),
                between("posts", 1, None),
            ],
        ),
        Suite("marts", "agg_social_sdg_mentions", [unique("month", "sdg"), between("sdg", 1, 17)]),
        # --- marts: operations (what the data-quality dashboard reads) ----------------------------
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
        Suite("marts", "rpt_quarantine_summary", [between("rows_quarantined", 1, None)]),
        # --- marts: indicators ----------------------------------------------------------------------
        Suite("marts", "dim_indicator", [some_rows(), unique("indicator_code"), not_null("name")]),
        Suite(
            "marts",
            "fct_indicator_value",
            [
                some_rows(),
                unique("indicator_code", "period", "geography", "dimension", "dimension_value"),
                rows(_orphans("indicator_code", "dim_indicator"), "every indicator value has a definition"),
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
            asset = source.add_query_asset(name=name, query=f"select * from {name} where {suite.scope}")
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
