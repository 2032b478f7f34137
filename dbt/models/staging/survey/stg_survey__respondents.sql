-- Consenting respondents of the current loads. Their attributes are in stg_survey__respondent_attributes;
-- the raw strings (attributes_raw) stay in raw.
select
    r._load_id as load_id,
    r.codebook,
    r.survey,
    r.wave,
    r.respondent_key,
    r.submitted_at
from {{ source('raw_survey', 'survey_respondent') }} as r
where r._load_id in (select distinct load_id from {{ ref('stg_survey__items') }})
