-- Construct scores across waves (all respondents of a wave), with the change since the previous wave.
with overall as (
    select *
    from {{ ref('int_survey__segment_stats') }}
    where dimension = 'overall'
),

with_previous as (
    select
        o.*,
        lag(o.wave) over w as previous_wave,
        lag(o.mean_score) over w as previous_mean,
        lag(o.suppressed) over w as previous_suppressed
    from overall as o
    window w as (partition by o.survey, o.construct order by o.wave)
)

select
    survey,
    construct,
    construct_label,
    wave,
    n,
    suppressed,
    case when not suppressed then mean_score end as mean_score,
    case when not suppressed then sd_score end as sd_score,
    case when not suppressed then mean_score - ci_half_width end as ci_low,
    case when not suppressed then mean_score + ci_half_width end as ci_high,
    previous_wave,
    case when not suppressed and not previous_suppressed then mean_score - previous_mean end as change_from_previous
from with_previous
