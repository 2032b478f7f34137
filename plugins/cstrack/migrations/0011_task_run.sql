-- Each Airflow task's outcome (issue 16): written by the tasks themselves (orchestration/progress.reported)
-- when they end, for the data steward's page of the report (marts.rpt_task_runs). The message of a failure
-- can quote data and stays here; the mart publishes states, times and counts.
create table ops.task_run (
    task_run_id bigserial primary key,
    dag_id text not null,
    run_id text not null,
    task_id text not null,
    attempt integer not null default 1,
    state text not null check (state in ('success', 'failed')),
    started_at timestamptz not null,
    finished_at timestamptz not null,
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    message text
);
create index task_run_dag_run on ops.task_run (dag_id, run_id);
grant select on ops.task_run to cstrack_transformer;
