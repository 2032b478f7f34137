-- The respondent of each survey, wave and key that counts: when language versions of a wave both hold
-- the same respondent (same id), the latest load wins. One home for the rule: respondents and their
-- attributes both start here.
select distinct on (survey, wave, respondent_key)
    load_id,
    codebook,
    survey,
    wave,
    respondent_key,
    submitted_at
from {{ ref('stg_survey__respondents') }}
order by survey asc, wave asc, respondent_key asc, load_id desc
