-- One row per respondent and wave: when language versions of a wave both hold the same respondent
-- (same id), the latest load wins.
select distinct on (survey, wave, respondent_key)
    load_id,
    codebook,
    survey,
    wave,
    respondent_key,
    submitted_at,
    language,
    gender,
    age_band,
    country,
    project
from {{ ref('stg_survey__respondents') }}
order by survey, wave, respondent_key, load_id desc
