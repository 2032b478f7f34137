{{ config(
    materialized='incremental', unique_key='month', incremental_strategy='delete+insert',
    pre_hook="{{ social_delete_emptied_months(ref('int_social__posts')) }}",
    indexes=[{'columns': ['month'], 'unique': true}],
) }}
-- Per month: the statistics of the social indicators that no aggregate mart can be summed into (distinct
-- authors, median engagement, mean English sentiment). Incremental: only the months of posts refolded since
-- the last build, where they are now and where they were before (macro social_months_to_build), are
-- recomputed from all their posts.
with months as (
    {{ social_months_to_build(ref('int_social__posts')) }}
)

select
    m.month,
    count(*) as posts,
    count(distinct p.author_pseudonym) as unique_authors,
    count(p.engagement) as posts_with_metrics,
    (percentile_cont(0.5) within group (order by p.engagement))::numeric as engagement_median,
    count(p.sentiment) as english_posts,
    avg(p.sentiment)::numeric as sentiment_mean_en,
    max(m.last_commit_seq) as last_commit_seq
from months as m
inner join {{ ref('int_social__posts') }} as p on p.posted_month = m.month
where {{ social_months_filter('p.posted_month', ref('int_social__posts')) }}
group by m.month
