-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['survey', 'wave', 'construct']}, {'columns': ['country']}]) }}
-- Long form: one row per pseudonymous respondent, wave and construct (constructs are codebook data,
-- so a new construct needs no new column).
select
    survey,
    wave,
    respondent_key,
    construct,
    construct_label,
    n_items,
    n_answered,
    share_answered,
    score,
    language,
    gender,
    age_band,
    country,
    project
from {{ ref('int_survey__construct_scores') }}
