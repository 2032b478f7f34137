-- Reliability per survey, wave and construct; formulas in int_survey__construct_reliability.
select
    survey,
    wave,
    construct,
    construct_label,
    n_items,
    n_complete,
    cronbach_alpha,
    cronbach_alpha_std,
    n_scored,
    mean_score,
    sd_score
from {{ ref('int_survey__construct_reliability') }}
