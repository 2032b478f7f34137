{{ config(
    materialized='incremental', unique_key='month', incremental_strategy='delete+insert', on_schema_change='fail',
    pre_hook="{{ social_delete_emptied_months() }}",
    indexes=[{'columns': ['month']}, {'columns': ['project_key']}],
) }}
-- Project x month: activity and engagement of the posts linked to each project; project_key null
-- gathers the posts linked to no catalogued project. Incremental by month (macro social_months_to_build).
with months as (
    {{ social_months_to_build() }}
)

select
    f.project_key,
    f.posted_month as month,
    count(*)::int as posts,
    count(*) filter (where f.kind = 'original')::int as original_posts,
    count(*) filter (where f.kind = 'repost')::int as reposts,
    count(*) filter (where f.kind = 'quote')::int as quotes,
    count(*) filter (where f.kind = 'reply')::int as replies,
    count(distinct f.author_pseudonym)::int as unique_authors,
    count(f.engagement)::int as posts_with_metrics,
    sum(f.engagement)::bigint as engagement_sum,
    (percentile_cont(0.5) within group (order by f.engagement))::numeric as engagement_median,
    count(f.sentiment)::int as english_posts,
    avg(f.sentiment)::numeric(6, 4) as sentiment_mean_en,
    max(m.last_commit_seq) as last_commit_seq
from {{ ref('fct_social_post') }} as f
inner join months as m on m.month = f.posted_month
where {{ social_months_filter('f.posted_month') }}
group by f.project_key, f.posted_month
