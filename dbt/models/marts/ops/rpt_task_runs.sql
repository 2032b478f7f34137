-- One row per Airflow task attempt that ended: states, times and row counts for the data steward's page.
-- Failure messages can quote data and stay in ops.task_run.
-- A view, so the report written in the same DAG run already shows the build that just ran (a table would
-- hold only the tasks that ended before the build started); the reporter reads it with the view's rights.
{{ config(materialized='view') }}
select
    t.task_run_id,
    t.dag_id,
    t.run_id,
    t.task_id,
    t.attempt,
    t.state,
    t.started_at,
    t.finished_at,
    extract(epoch from t.finished_at - t.started_at)::double precision as duration_seconds,
    t.rows_read,
    t.rows_loaded,
    t.rows_quarantined
from {{ source('ops', 'task_run') }} as t
