{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
) }}
-- SDGs inferred from the text of every record: a keyword of the seed sdg_keyword, in the record's language
-- (English when unknown), found by full-text search (stemmed, phrases in order). Computed for labelled
-- records too, so that marts.rpt_sdg_tagging_evaluation can measure it against the labels.
-- Incremental: a record is tagged again only when its text, its language or the keyword seed changed
-- (tag_hash); a record without any match keeps one row with sdg null, so it is not tagged again either.
with keywords as (
    select md5(string_agg(sdg || ':' || language || ':' || keyword, ',' order by sdg, language, keyword)) as seed_hash
    from {{ ref('sdg_keyword') }}
),

records as (
    select
        r.record_key,
        coalesce(l.language, 'en') as language,
        concat_ws(' ', r.title, r.aim, r.description) as text,
        md5(concat_ws('|', r.title, r.aim, r.description, l.language, k.seed_hash)) as tag_hash
    from {{ ref('int_catalogue__records') }} as r
    inner join {{ ref('int_catalogue__record_language') }} as l on l.record_key = r.record_key
    cross join keywords as k
),

todo as (
    -- `r` is used by the incremental filter below
    select * from records as r  -- noqa: AL05
    {# a table built before tag_hash existed is simply tagged again, in full #}
    {% if is_incremental() and 'tag_hash' in adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    where not exists (select 1 from {{ this }} as t where t.record_key = r.record_key and t.tag_hash = r.tag_hash)
    {% endif %}
),

matches as (
    select distinct d.record_key, k.sdg
    from (
        select record_key, language, to_tsvector({{ fts_config('language') }}, text) as doc from todo
    ) as d
    inner join {{ ref('sdg_keyword') }} as k on k.language = d.language
    where d.doc @@ phraseto_tsquery({{ fts_config('k.language') }}, k.keyword)
)

select t.record_key, t.tag_hash, m.sdg
from todo as t
left join matches as m on m.record_key = t.record_key
