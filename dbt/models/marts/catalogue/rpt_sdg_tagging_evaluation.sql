-- How well the SDG keyword tagging agrees with the labels of sources that carry SDG labels: on those
-- records, inferred tags are compared with the labelled SDGs (direct or indirect), per source and overall.
with labels as (
    select t.record_key, t.sdg
    from {{ ref('int_catalogue__sdg_tags') }} as t
    where t.relevance in ('direct', 'indirect')
),

inferred as (
    select i.record_key, i.sdg
    from {{ ref('int_catalogue__sdg_inferred') }} as i
    where i.sdg is not null and i.record_key in (select record_key from labels)
),

compared as (
    select
        coalesce(l.record_key, i.record_key) as record_key,
        l.sdg is not null as is_labelled,
        i.sdg is not null as is_inferred
    from labels as l
    full outer join inferred as i on i.record_key = l.record_key and i.sdg = l.sdg
),

counts as (
    select
        coalesce(r.source_system, 'all') as source_system,
        count(distinct c.record_key) as n_records,
        count(*) filter (where c.is_labelled and c.is_inferred) as true_positives,
        count(*) filter (where not c.is_labelled and c.is_inferred) as false_positives,
        count(*) filter (where c.is_labelled and not c.is_inferred) as false_negatives
    from compared as c
    inner join {{ ref('int_catalogue__records') }} as r on r.record_key = c.record_key
    group by rollup (r.source_system)
)

select
    source_system,
    n_records::int as n_records,
    true_positives::int as true_positives,
    false_positives::int as false_positives,
    false_negatives::int as false_negatives,
    round(true_positives::numeric / nullif(true_positives + false_positives, 0), 4) as sdg_precision,
    round(true_positives::numeric / nullif(true_positives + false_negatives, 0), 4) as sdg_recall
from counts
