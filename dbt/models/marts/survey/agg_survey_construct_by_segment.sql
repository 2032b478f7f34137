-- Construct scores by segment with small-cell suppression: a cell with fewer than 5 scored
-- respondents shows its n and suppressed = true, and no mean, SD or interval.
select
    survey,
    wave,
    construct,
    construct_label,
    dimension,
    dimension_value,
    n,
    suppressed,
    case when not suppressed then mean_score end as mean_score,
    case when not suppressed then sd_score end as sd_score,
    case when not suppressed then mean_score - ci_half_width end as ci_low,
    case when not suppressed then mean_score + ci_half_width end as ci_high
from {{ ref('int_survey__segment_stats') }}
