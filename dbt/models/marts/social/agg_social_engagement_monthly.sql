-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['month']}, {'columns': ['project_key']}]) }}
-- Project x month: activity and engagement of the posts linked to each project; project_key null
-- gathers the posts linked to no catalogued project.
select
    project_key,
    posted_month as month,
    count(*)::int as posts,
    count(*) filter (where kind = 'original')::int as original_posts,
    count(*) filter (where kind = 'repost')::int as reposts,
    count(*) filter (where kind = 'quote')::int as quotes,
    count(*) filter (where kind = 'reply')::int as replies,
    count(distinct author_pseudonym)::int as unique_authors,
    count(engagement)::int as posts_with_metrics,
    sum(engagement)::bigint as engagement_sum,
    (percentile_cont(0.5) within group (order by engagement))::numeric as engagement_median,
    count(sentiment)::int as english_posts,
    avg(sentiment)::numeric(6, 4) as sentiment_mean_en
from {{ ref('fct_social_post') }}
group by project_key, posted_month
