{{ config(materialized='table') }}
-- Topics per record from the EU-Citizen.Science vocabulary: the source's categories through the seed
-- topic_alias (origin source) win; a record with none of those gets topics inferred from its text with the
-- seed topic_keyword (origin inferred).
with records as (
    select * from {{ ref('int_catalogue__records') }}
),

aliases as (
    select {{ normalise_key('alias') }} as alias_key, topic from {{ ref('topic_alias') }}
),

from_source as (
    select distinct r.record_key, a.topic
    from records as r
    cross join lateral unnest(r.topics) as t (topic)
    inner join aliases as a on a.alias_key = {{ normalise_key('t.topic') }}
),

docs as (
    select
        r.record_key,
        coalesce(l.language, 'en') as language,
        to_tsvector(
            {{ fts_config("coalesce(l.language, 'en')") }}, concat_ws(' ', r.title, r.aim, r.description)
        ) as doc
    from records as r
    inner join {{ ref('int_catalogue__record_language') }} as l on l.record_key = r.record_key
    where not exists (select 1 from from_source as s where s.record_key = r.record_key)
),

inferred as (
    select distinct d.record_key, k.topic
    from docs as d
    inner join {{ ref('topic_keyword') }} as k on k.language = d.language
    where d.doc @@ phraseto_tsquery({{ fts_config('k.language') }}, k.keyword)
)

select record_key, topic, 'source' as origin from from_source
union all
select record_key, topic, 'inferred' as origin from inferred
