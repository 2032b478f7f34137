-- renamed to agg_survey_construct_reliability:
-- this view keeps dashboards and queries on the old name working for one release
select * from {{ ref('agg_survey_construct_reliability') }}
