-- renamed to rpt_quarantine_summary:
-- this view keeps dashboards and queries on the old name working for one release
select * from {{ ref('rpt_quarantine_summary') }}
