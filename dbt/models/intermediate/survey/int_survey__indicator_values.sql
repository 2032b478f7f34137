-- Survey indicators in the shape of marts.fct_indicator_value. period = wave; geography = the
-- respondents' country (ISO-2) or 'all'; dimension 'survey' (value: the survey) or 'construct'
-- (value: survey.construct). Cells under 5 respondents are suppressed: value, numerator and
-- denominator null, n kept.
with by_country as (
    select survey, wave, construct, dimension_value as geography, n, suppressed, mean_score, n_agree
    from {{ ref('int_survey__segment_stats') }}
    where dimension = 'country' and dimension_value <> 'not stated'
    union all
    select survey, wave, construct, 'all', n, suppressed, mean_score, n_agree
    from {{ ref('int_survey__segment_stats') }}
    where dimension = 'overall'
),

respondents as (
    select survey, wave, coalesce(country, 'not stated') as geography, count(distinct respondent_key) as n
    from {{ ref('int_survey__construct_scores') }}
    where score is not null
    group by grouping sets ((survey, wave, coalesce(country, 'not stated')), (survey, wave))
),

indicator_rows as (
    select
        'SRV_RESPONDENTS' as indicator_code,
        wave as period,
        coalesce(geography, 'all') as geography,
        'survey' as dimension,
        survey as dimension_value,
        n::numeric as value,
        null::numeric as numerator,
        null::numeric as denominator,
        n::integer as n
    from respondents
    where geography is distinct from 'not stated'

    union all

    select
        'SRV_CONSTRUCT_MEAN', wave, geography, 'construct', survey || '.' || construct,
        mean_score, null, null, n
    from by_country

    union all

    select
        'SRV_CONSTRUCT_AGREE_SHARE', wave, geography, 'construct', survey || '.' || construct,
        n_agree::numeric / n, n_agree, n, n
    from by_country

    union all

    select
        'SRV_CONSTRUCT_ALPHA', wave, 'all', 'construct', survey || '.' || construct,
        cronbach_alpha, null, null, n_complete
    from {{ ref('int_survey__construct_reliability') }}
)

select
    indicator_code::text as indicator_code,
    period::text as period,
    geography::text as geography,
    dimension::text as dimension,
    dimension_value::text as dimension_value,
    case when n >= {{ var('survey_min_cell_size', 5) }} then value end::numeric as value,
    case when n >= {{ var('survey_min_cell_size', 5) }} then numerator end::numeric as numerator,
    case when n >= {{ var('survey_min_cell_size', 5) }} then denominator end::numeric as denominator,
    n::integer as n,
    (n < {{ var('survey_min_cell_size', 5) }})::boolean as suppressed
from indicator_rows
