-- One row per respondent, wave and construct: the score is the mean of the answered (scored) items
-- when the share of the construct's items answered reaches min_share_answered, else null.
with per_construct as (
    select
        survey,
        wave,
        respondent_key,
        construct,
        max(construct_label) as construct_label,
        max(min_share_answered) as min_share_answered,
        count(*) as n_items,
        count(score) as n_answered,
        avg(score) as mean_answered
    from {{ ref('int_survey__item_scores') }}
    group by survey, wave, respondent_key, construct
)

select
    c.survey,
    c.wave,
    c.respondent_key,
    c.construct,
    c.construct_label,
    c.n_items::integer as n_items,
    c.n_answered::integer as n_answered,
    c.n_answered::numeric / c.n_items as share_answered,
    case
        when c.n_answered > 0 and c.n_answered::numeric / c.n_items >= c.min_share_answered then c.mean_answered
    end as score,
    r.submitted_at,
    r.language,
    r.gender,
    r.age_band,
    r.country,
    r.project,
    r.demographics
from per_construct as c
inner join {{ ref('int_survey__respondents') }} as r
    on r.survey = c.survey and r.wave = c.wave and r.respondent_key = c.respondent_key
