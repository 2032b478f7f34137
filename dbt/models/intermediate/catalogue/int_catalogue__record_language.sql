-- The language of each record: the source's, else detected offline from the text: the language whose
-- common words (seed language_stopword) the title, aim and description use most, at least 3 times.
with records as (
    select
        record_key,
        source_language,
        lower(concat_ws(' ', title, aim, description)) as text
    from {{ ref('int_catalogue__records') }}
),

words as (
    select r.record_key, w.word
    from records as r
    cross join lateral regexp_split_to_table(r.text, '[^[:alpha:]]+') as w (word)
    where r.source_language is null and w.word <> ''
),

scores as (
    select w.record_key, s.language, count(*) as hits
    from words as w
    inner join {{ ref('language_stopword') }} as s on s.word = w.word
    group by w.record_key, s.language
),

best as (
    select distinct on (record_key) record_key, language, hits
    from scores
    order by record_key asc, hits desc, language asc
)

select
    r.record_key,
    coalesce(r.source_language, case when b.hits >= 3 then b.language end) as language,
    case
        when r.source_language is not null then 'source'
        when b.hits >= 3 then 'detected'
    end as language_origin
from records as r
left join best as b on b.record_key = r.record_key
