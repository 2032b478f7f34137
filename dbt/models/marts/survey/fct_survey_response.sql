-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['survey', 'wave', 'construct']}, {'columns': ['country']}]) }}
-- Long form: one row per pseudonymous respondent, wave and construct (constructs are codebook data,
-- so a new construct needs no new column). Attributes: the classic five in their own columns, every
-- attribute of the codebook (any name, e.g. education) in `demographics` (a new attribute needs no new
-- column either); open answers only as categories held by at least 5 respondents, else 'other'.
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
    project,
    demographics
from {{ ref('int_survey__construct_scores') }}
