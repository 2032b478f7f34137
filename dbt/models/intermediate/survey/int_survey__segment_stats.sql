-- Construct scores by segment (overall, gender, age band, country, project, language) with n, mean,
-- sample SD and a 95% confidence interval from Student's t (df = n - 1; normal beyond df 1000).
-- Cells with fewer than var('survey_min_cell_size', 5) scored respondents are suppressed.
with scored as (
    select * from {{ ref('int_survey__construct_scores') }} where score is not null
),

segments as (
    {% for dimension in ['overall', 'gender', 'age_band', 'country', 'project', 'language'] %}
    select
        survey, wave, construct, construct_label,
        '{{ dimension }}'::text as dimension,
        {% if dimension == 'overall' %}'all'{% else %}coalesce({{ dimension }}, 'not stated'){% endif %}::text as dimension_value,
        score
    from scored
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
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
