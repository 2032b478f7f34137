-- The attributes of the current loads' respondents, long: one row per respondent and attribute of its
-- codebook (any name: gender, age_band, education, ...). is_open marks an open answer (a column the
-- codebook gives no map or parse): int_survey__respondent_attributes publishes it only as a category
-- held by at least 5 respondents. A view: open answers are not stored outside raw.
select
    r._load_id as load_id,
    r.codebook,
    r.survey,
    r.wave,
    r.respondent_key,
    a.key::text as attribute,
    nullif(a.value, '')::text as value,
    a.is_open
from {{ source('raw_survey', 'survey_respondent') }} as r
cross join lateral (
    select key, value, false as is_open from jsonb_each_text(coalesce(r.attributes, '{}'::jsonb))
    union all
    select key, value, true from jsonb_each_text(coalesce(r.attributes_open, '{}'::jsonb))
) as a
where r._load_id in (select distinct load_id from {{ ref('stg_survey__items') }})
