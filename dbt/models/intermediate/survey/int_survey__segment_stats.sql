-- Construct scores by segment with n, mean, sample SD and a 95% confidence interval from Student's t
-- (df = n - 1; normal beyond df 1000). Segments: overall, then one dimension per attribute: the classic
-- five (gender, age_band, country, project, language) for every survey and wave, and every other
-- attribute its codebooks name (education, ...), values as published by int_survey__respondent_attributes
-- (open answers held by fewer than 5 respondents are 'other'); a respondent without a value is 'not stated'.
-- Cells with fewer than var('survey_min_cell_size', 5) scored respondents are suppressed.
with scored as (
    select * from {{ ref('int_survey__construct_scores') }} where score is not null
),

dimensions as (
    select distinct survey, wave, dimension
    from (
        select survey, wave, unnest(array['gender', 'age_band', 'country', 'project', 'language']) as dimension
        from scored
        union all
        select survey, wave, attribute
        from {{ ref('int_survey__respondent_attributes') }}
    ) as named
),

segments as (
    select survey, wave, construct, construct_label, 'overall'::text as dimension, 'all'::text as dimension_value, score
    from scored
    union all
    select
        s.survey,
        s.wave,
        s.construct,
        s.construct_label,
        d.dimension,
        coalesce(s.demographics ->> d.dimension, 'not stated')::text as dimension_value,
        s.score
    from scored as s
    inner join dimensions as d on d.survey = s.survey and d.wave = s.wave
),

stats as (
    select
        survey,
        wave,
        construct,
        max(construct_label) as construct_label,
        dimension,
        dimension_value,
        count(*)::integer as n,
        avg(score) as mean_score,
        stddev_samp(score) as sd_score,
        count(*) filter (where score >= 4)::integer as n_agree
    from segments
    group by survey, wave, construct, dimension, dimension_value
)

select
    s.survey,
    s.wave,
    s.construct,
    s.construct_label,
    s.dimension,
    s.dimension_value,
    s.n,
    s.n < {{ var('survey_min_cell_size', 5) }} as suppressed,
    s.mean_score,
    s.sd_score,
    coalesce(t.t_975, 1.959963984540) * s.sd_score / sqrt(s.n::numeric) as ci_half_width,
    s.n_agree
from stats as s
left join {{ ref('survey_t_critical') }} as t on t.df = s.n - 1
