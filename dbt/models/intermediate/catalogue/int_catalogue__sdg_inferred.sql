{{ config(materialized='table') }}
-- SDGs inferred from the text of every record: a keyword of the seed sdg_keyword, in the record's language
-- (English when unknown), found by full-text search (stemmed, phrases in order). Computed for labelled
-- records too, so that marts.sdg_tagging_evaluation can measure it against the labels.
with docs as (
    select
        r.record_key,
        coalesce(l.language, 'en') as language,
        to_tsvector({{ fts_config("coalesce(l.language, 'en')") }}, concat_ws(' ', r.title, r.aim, r.description)) as doc
    from {{ ref('int_catalogue__records') }} as r
    inner join {{ ref('int_catalogue__record_language') }} as l on l.record_key = r.record_key
)

select distinct
    d.record_key,
    k.sdg
from docs as d
inner join {{ ref('sdg_keyword') }} as k on k.language = d.language
where d.doc @@ phraseto_tsquery({{ fts_config('k.language') }}, k.keyword)
