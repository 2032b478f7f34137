-- SDG tags per record: the labels a source carries (relevance direct or indirect, as the source says) win;
-- a record without labels gets the inferred ones (relevance inferred).
with labels as (
    select
        r.record_key,
        substring(label ->> 'tag' from '(\d+)')::int as sdg,
        lower(btrim(label ->> 'value')) as relevance
    from {{ ref('int_catalogue__records') }} as r
    cross join lateral jsonb_array_elements(r.sdg_labels) as label
    where jsonb_typeof(label) = 'object'
),

valid_labels as (
    -- the strongest label when a source gives an SDG twice
    select record_key, sdg, min(relevance) as relevance  -- 'direct' < 'indirect'
    from labels
    where sdg between 1 and 17 and relevance in ('direct', 'indirect')
    group by 1, 2
)

select record_key, sdg, relevance from valid_labels
union all
select i.record_key, i.sdg, 'inferred' as relevance
from {{ ref('int_catalogue__sdg_inferred') }} as i
where i.sdg is not null and not exists (select 1 from valid_labels as v where v.record_key = i.record_key)
