-- One row per load of one file: counts and timing only. Messages and file paths stay in ops
-- (a path can name a person's folder, a message can quote a rejected value).
select
    l.load_id,
    l.source_kind,
    l.source_system,
    regexp_replace(l.source_file, '^.*[/\\]', '') as source_file_name,
    l.status,
    l.rows_read,
    l.rows_loaded,
    l.rows_quarantined,
    l.started_at,
    l.finished_at,
    extract(epoch from l.finished_at - l.started_at)::double precision as duration_seconds
from {{ source('ops', 'load_run') }} as l
