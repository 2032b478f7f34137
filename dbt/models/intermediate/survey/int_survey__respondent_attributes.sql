-- Attributes of the current respondents (one row per respondent, wave and attribute), as published:
-- a mapped, parsed or constant value as the codebook gives it; an open answer (no map) only when at
-- least var('survey_min_cell_size', 5) respondents of the survey and wave hold the same value, 'other'
-- otherwise, so no rare free answer reaches marts. Null: not stated (or not mappable).
with current_respondents as (
    select * from {{ ref('int_survey__current_respondents') }}
),

answers as (
    select c.survey, c.wave, c.respondent_key, a.attribute, a.value, a.is_open
    from current_respondents as c
    inner join {{ ref('stg_survey__respondent_attributes') }} as a
        on a.load_id = c.load_id and a.respondent_key = c.respondent_key
),

counted as (
    select
        *,
        count(*) over (partition by survey, wave, attribute, value) as holders
    from answers
)

select
    survey,
    wave,
    respondent_key,
    attribute,
    case
        when value is null then null
        when is_open and holders < {{ var('survey_min_cell_size', 5) }} then 'other'
        else value
    end::text as value,
    is_open
from counted
