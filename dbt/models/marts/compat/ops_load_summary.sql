-- renamed to rpt_load_summary:
-- this view keeps dashboards and queries on the old name working for one release
select * from {{ ref('rpt_load_summary') }}
