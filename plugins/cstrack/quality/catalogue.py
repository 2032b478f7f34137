"""Quality suites of the catalogue domain: raw catalogue records and crawled pages, the project marts."""

from __future__ import annotations

from cstrack.quality.expectations import (
    BUILD,
    CRITICAL,
    WARNING,
    Suite,
    between,
    gx,
    in_set,
    not_null,
    orphans,
    rows,
    rows_when_loaded,
    seed_values,
    unique,
)


def suites() -> list[Suite]:
    return [
        Suite(
            "raw",
            "catalogue_record",
            [
                not_null("source_system"),
                not_null("source_record_id"),
                not_null("record"),
                unique("_load_id", "source_record_id"),
                gx().ExpectColumnValuesToMatchRegex(column="source_system", regex="^[a-z][a-z0-9_]*$", meta=CRITICAL),
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
        # --- marts
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
                gx().ExpectColumnValuesToBeNull(
                    column="date_rejected_reason",
                    meta=WARNING,
                    description="no start or end year was nulled for lying outside 1600 .. next year + 10",
                ),
                rows(
                    "select project_key, start_year, end_year from {batch} where end_year < start_year",
                    "a project does not end before it starts",
                    WARNING,
                ),
                gx().ExpectColumnValuesToMatchRegex(column="url", regex="^https?://", mostly=0.95, meta=WARNING),
                not_null("status", WARNING, mostly=0.9),
                between("n_sources", 1, None),
                gx().ExpectColumnValuesToMatchRegex(column="language", regex="^[a-z]{2}$", meta=CRITICAL),
            ],
        ),
        Suite(
            "marts",
            "bridge_project_source",
            [
                not_null("project_key"),
                unique("source_system", "source_record_id"),
                in_set("match_rule", ["url", "title", "single"]),
                rows(orphans("project_key", "dim_project"), "every source record belongs to a published project"),
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
                gx().ExpectColumnValuesToMatchRegex(column="country_code", regex="^[A-Z]{2}$", meta=CRITICAL),
                unique("project_key", "country_code"),
                rows(orphans("project_key", "dim_project"), "every country row belongs to a published project"),
            ],
        ),
        Suite(
            "marts",
            "bridge_project_sdg",
            [
                between("sdg", 1, 17),
                in_set("relevance", ["direct", "indirect", "inferred"]),
                unique("project_key", "sdg"),
                rows(orphans("project_key", "dim_project"), "every SDG row belongs to a published project"),
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
                rows(orphans("project_key", "dim_project"), "every topic row belongs to a published project"),
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
    ]
