{{ config(
    materialized='incremental', unique_key='month', incremental_strategy='delete+insert', on_schema_change='fail',
    pre_hook="{{ social_delete_emptied_months() }}",
    indexes=[{'columns': ['month']}, {'columns': ['project_key']}],
) }}
-- Posts per month, platform, kind and linked project (null: linked to none): what the post counts of the
-- dashboards and the SOC_* indicators sum, so that they never scan fct_social_post (10^7 posts make
-- thousands of rows here). Incremental by month (macro social_months_to_build).
with months as (
    {{ social_months_to_build() }}
)

select
    f.posted_month as month,
    f.platform,
    f.kind,
    f.project_key,
    count(*)::int as posts,
    count(f.engagement)::int as posts_with_metrics,
    coalesce(sum(f.engagement), 0)::bigint as engagement_sum,
    max(m.last_commit_seq) as last_commit_seq
from {{ ref('fct_social_post') }} as f
inner join months as m on m.month = f.posted_month
where {{ social_months_filter('f.posted_month') }}
group by f.posted_month, f.platform, f.kind, f.project_key
