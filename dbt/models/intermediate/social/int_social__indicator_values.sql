{{ config(materialized='ephemeral') }}
-- Social indicators per month (definitions in the seed indicator_catalogue, codes SOC_*). Ephemeral: it
-- reads the candidate marts, and a view over them would be dropped with the previous marts at each publish.
-- Summed from the aggregates, never from fct_social_post, so an incremental build does not scan every post.
-- The mean sentiment of fewer than 5 English posts is suppressed (value null): too few to mean anything.
with posts as (
    select *, to_char(month, 'YYYY-MM') as period from {{ ref('agg_social_posts_monthly') }}
),

stats as (
    select *, to_char(month, 'YYYY-MM') as period from {{ ref('int_social__monthly_stats') }}
),

totals as (
    select period, sum(posts) as total from posts group by period
),

values_by_dimension as (
    select 'SOC_POSTS' as indicator_code, period, 'all' as dimension, 'all' as dimension_value,
        sum(posts)::numeric as value, sum(posts)::numeric as numerator, null::numeric as denominator, sum(posts) as n
    from posts group by period
    union all
    select 'SOC_POSTS', period, 'platform', platform, sum(posts), sum(posts), null, sum(posts)
    from posts group by period, platform
    union all
    select 'SOC_POSTS', period, 'kind', kind, sum(posts), sum(posts), null, sum(posts)
    from posts group by period, kind
    union all
    select 'SOC_LINKED_SHARE', period, 'all', 'all',
        round(coalesce(sum(posts) filter (where project_key is not null), 0)::numeric / sum(posts), 4),
        coalesce(sum(posts) filter (where project_key is not null), 0), sum(posts), sum(posts)
    from posts group by period
    union all
    select 'SOC_ACTIVE_PROJECTS', period, 'all', 'all',
        count(distinct project_key), count(distinct project_key), null, count(distinct project_key)
    from posts group by period
    union all
    select 'SOC_UNIQUE_AUTHORS', period, 'all', 'all', unique_authors, unique_authors, null, posts
    from stats
    union all
    select 'SOC_ENGAGEMENT_MEDIAN', period, 'all', 'all', engagement_median, null, null, posts_with_metrics
    from stats where posts_with_metrics > 0
    union all
    select 'SOC_SENTIMENT_EN', period, 'all', 'all', round(sentiment_mean_en, 4), null, null, english_posts
    from stats where english_posts > 0
    union all
    select 'SOC_SDG_POSTS', s.period, 'sdg', s.sdg::text,
        round(s.posts::numeric / t.total, 4), s.posts, t.total, s.posts
    from (select to_char(month, 'YYYY-MM') as period, sdg, posts from {{ ref('agg_social_sdg_mentions') }}) as s
    inner join totals as t on t.period = s.period
)

select
    indicator_code::text as indicator_code,
    period::text as period,
    'ALL'::text as geography,
    dimension::text as dimension,
    dimension_value::text as dimension_value,
    case when indicator_code = 'SOC_SENTIMENT_EN' and n < 5 then null else value end::numeric as value,
    numerator::numeric as numerator,
    denominator::numeric as denominator,
    n::int as n,
    (indicator_code = 'SOC_SENTIMENT_EN' and n < 5) as suppressed
from values_by_dimension
