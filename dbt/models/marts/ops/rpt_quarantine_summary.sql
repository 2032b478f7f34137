-- Quarantined rows per source and field: counts only; reasons and raw values can quote data and stay in ops.
select
    l.source_kind,
    l.source_system,
    coalesce(q.field, '(whole row)') as field,
    count(*)::bigint as rows_quarantined,
    count(distinct q.load_id)::bigint as loads,
    max(q.quarantined_at) as last_quarantined_at
from {{ source('ops', 'quarantine') }} as q
inner join {{ source('ops', 'load_run') }} as l on l.load_id = q.load_id
group by 1, 2, 3
