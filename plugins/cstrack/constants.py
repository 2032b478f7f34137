"""Names the warehouse's parts agree on: schemas, the reporting role, advisory-lock keys. One home each."""

RAW_SCHEMA = "raw"
OPS_SCHEMA = "ops"
PUBLISHED_SCHEMA = "marts"  # what dashboards, the report and the export read
BUILD_SCHEMA = "marts_build"  # where dbt builds and the marts gate validates, before the swap into marts

REPORTER_ROLE = "cstrack_reporter"  # reads marts only: Metabase, the report and the export connect as it

# PostgreSQL advisory-lock keys (one namespace per database)
MIGRATION_LOCK = 7_300_001  # one migrator at a time
BUILD_LOCK = 7_300_002  # one build/publish at a time
COMMIT_ORDER_LOCK = 7_300_003  # loads take their commit_seq one at a time


def committed_after(threshold_sql: str) -> str:
    """SQL: last_commit_seq above `threshold_sql` (a subquery read at run time), as a bounded range. PostgreSQL
    cannot see a run-time value, so it takes an open `>` for a third of the table (a full scan); a range with a
    constant end is estimated at a few rows and read through the last_commit_seq index."""
    return f"last_commit_seq > {threshold_sql} and last_commit_seq < 9223372036854775807"
