-- One row per respondent and wave (int_survey__current_respondents: the latest load wins). Attributes as
-- published (int_survey__respondent_attributes): the classic five in their own columns, every attribute
-- (any name) in `demographics`.
with current_respondents as (
    select * from {{ ref('int_survey__current_respondents') }}
),

attributes as (
    select
        survey,
        wave,
        respondent_key,
        jsonb_object_agg(attribute, value) as demographics
    from {{ ref('int_survey__respondent_attributes') }}
    group by survey, wave, respondent_key
)

select
    r.load_id,
    r.codebook,
    r.survey,
    r.wave,
    r.respondent_key,
    r.submitted_at,
    a.demographics ->> 'language' as language,
    a.demographics ->> 'gender' as gender,
    a.demographics ->> 'age_band' as age_band,
    a.demographics ->> 'country' as country,
    a.demographics ->> 'project' as project,
    coalesce(a.demographics, '{}'::jsonb) as demographics
from current_respondents as r
left join attributes as a
    on a.survey = r.survey and a.wave = r.wave and a.respondent_key = r.respondent_key
