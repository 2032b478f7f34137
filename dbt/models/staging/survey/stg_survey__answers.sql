-- Answer cells of the current loads (see stg_survey__items), as answered: reverse coding comes later.
select
    a._load_id as load_id,
    a.codebook,
    a.survey,
    a.wave,
    a.respondent_key,
    a.item,
    a.value
from {{ source('raw_survey', 'survey_answer') }} as a
where a._load_id in (select distinct load_id from {{ ref('stg_survey__items') }})
