{{ config(
    materialized='incremental', unique_key='month', incremental_strategy='delete+insert',
    indexes=[{'columns': ['month'], 'unique': true}],
) }}
-- Per month: the statistics of the social indicators that no aggregate mart can be summed into (median
-- engagement, mean English sentiment). Incremental: only the months of posts refolded since the last build
-- are recomputed, from all their posts.
with months as (
    select posted_month, max(last_commit_seq) as last_commit_seq
    from {{ ref('int_social__posts') }}
    {% if is_incremental() %}
    where posted_month in (
        select posted_month from {{ ref('int_social__posts') }}
        where last_commit_seq > (select coalesce(max(last_commit_seq), 0) from {{ this }})
    )
    {% endif %}
    group by posted_month
)

select
    m.posted_month as month,
    count(*) as posts,
    count(p.engagement) as posts_with_metrics,
    (percentile_cont(0.5) within group (order by p.engagement))::numeric as engagement_median,
    count(p.sentiment) as english_posts,
    avg(p.sentiment)::numeric as sentiment_mean_en,
    max(m.last_commit_seq) as last_commit_seq
from months as m
inner join {{ ref('int_social__posts') }} as p on p.posted_month = m.posted_month
group by m.posted_month
