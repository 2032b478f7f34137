"""Quality suites of the survey domain: raw answers, respondents, items and free text; the survey marts."""

from __future__ import annotations

from cstrack.quality.expectations import (
    CRITICAL,
    NEW_LOADS,
    WARNING,
    Suite,
    between,
    gx,
    not_null,
    rows,
    rows_when_loaded,
    unique,
)


def suites() -> list[Suite]:
    return [
        Suite(
            "raw",
            "survey_answer",
            [
                not_null("respondent_key"),
                not_null("item"),  # value: null is a missing answer, kept for shares
                unique("_load_id", "respondent_key", "item"),
                gx().ExpectColumnValueLengthsToEqual(column="respondent_key", value=32, meta=CRITICAL),
            ],
            scope=NEW_LOADS,
        ),
        Suite(
            "raw",
            "survey_respondent",
            [
                not_null("respondent_key"),
                unique("_load_id", "respondent_key"),
                gx().ExpectColumnValueLengthsToEqual(column="respondent_key", value=32, meta=CRITICAL),
            ],
            scope=NEW_LOADS,
        ),
        Suite(
            "raw", "survey_item", [not_null("item"), not_null("construct"), unique("_load_id", "item")], scope=NEW_LOADS
        ),
        Suite("raw", "survey_free_text", [not_null("respondent_key"), not_null("answer")], scope=NEW_LOADS),
        # --- marts
        Suite(
            "marts",
            "fct_survey_response",
            [
                rows_when_loaded("survey_answer", "fct_survey_response"),
                not_null("respondent_key"),
                unique("survey", "wave", "respondent_key", "construct"),
                between("share_answered", 0, 1),
                rows(
                    "select survey, wave, construct, score from {batch} where"
                    " score < (select min(scale_min) from raw.survey_item)"
                    " or score > (select max(scale_max) from raw.survey_item)",
                    "construct scores lie within the item scales",
                ),
            ],
        ),
        Suite(
            "marts",
            "agg_survey_construct_reliability",
            [
                rows_when_loaded("survey_answer", "agg_survey_construct_reliability"),
                unique("survey", "wave", "construct"),
                between("cronbach_alpha", None, 1),
                between("cronbach_alpha_std", None, 1),
                between("n_items", 2, None, WARNING),
            ],
        ),
        Suite(
            "marts",
            "agg_survey_construct_by_segment",
            [
                unique("survey", "wave", "construct", "dimension", "dimension_value"),
                rows(
                    "select survey, wave, construct, dimension, dimension_value, n from {batch}"
                    " where n < 5 and (not suppressed or mean_score is not null or sd_score is not null"
                    " or ci_low is not null or ci_high is not null)",
                    "suppression honoured: a segment of fewer than 5 respondents shows no statistic",
                ),
            ],
        ),
        Suite(
            "marts",
            "agg_survey_construct_trend",
            [
                unique("survey", "construct", "wave"),
                rows(
                    "select survey, construct, wave, n from {batch} where"
                    " n < 5 and (not suppressed or mean_score is not null)",
                    "suppression honoured in trends",
                ),
            ],
        ),
    ]
