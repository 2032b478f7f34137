-- renamed to rpt_quality_summary:
-- this view keeps dashboards and queries on the old name working for one release
select * from {{ ref('rpt_quality_summary') }}
