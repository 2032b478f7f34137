-- The attributes of the current loads' respondents, long: one row per respondent and attribute of its
-- codebook (any name: gender, age_band, education, ...). is_open marks an open answer (a column the
-- codebook gives no map or parse): int_survey__respondent_attributes publishes it only as a category
-- held by at least 5 respondents. A view: open answers are not stored outside raw.
select
    s.load_id,
    s.codebook,
    s.survey,
    s.wave,
    s.respondent_key,
    a.key::text as attribute,
    nullif(a.value, '')::text as value,
    a.is_open
from {{ ref('stg_survey__respondents') }} as s
-- the jsonb attributes stay out of stg_survey__respondents: only this view unfolds them
inner join {{ source('raw_survey', 'survey_respondent') }} as r
    on r._load_id = s.load_id and r.respondent_key = s.respondent_key
cross join lateral (
    select key, value, false as is_open from jsonb_each_text(coalesce(r.attributes, '{}'::jsonb))
    union all
    select key, value, true from jsonb_each_text(coalesce(r.attributes_open, '{}'::jsonb))
) as a
