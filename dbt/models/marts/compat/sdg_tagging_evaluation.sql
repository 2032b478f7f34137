-- renamed to rpt_sdg_tagging_evaluation:
-- this view keeps dashboards and queries on the old name working for one release
select * from {{ ref('rpt_sdg_tagging_evaluation') }}
