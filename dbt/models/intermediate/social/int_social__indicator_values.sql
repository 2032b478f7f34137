{{ config(materialized='ephemeral') }}
-- Social indicators per month (definitions in the seed indicator_catalogue, codes SOC_*). Ephemeral: it
-- reads the candidate marts, and a view over them would be dropped with the previous marts at each publish.
-- The mean sentiment of fewer than 5 English posts is suppressed (value null): too few to mean anything.
with posts as (
    select *, to_char(posted_month, 'YYYY-MM') as period from {{ ref('fct_social_post') }}
),

totals as (
    select period, count(*) as total from posts group by period
),

values_by_dimension as (
    select 'SOC_POSTS' as indicator_code, period, 'all' as dimension, 'all' as dimension_value,
        count(*)::numeric as value, count(*)::numeric as numerator, null::numeric as denominator, count(*) as n
    from posts group by period
    union all
    select 'SOC_POSTS', period, 'platform', platform, count(*), count(*), null, count(*)
    from posts group by period, platform
    union all
    select 'SOC_POSTS', period, 'kind', kind, count(*), count(*), null, count(*)
    from posts group by period, kind
    union all
    select 'SOC_LINKED_SHARE', period, 'all', 'all',
        round(count(project_key)::numeric / count(*), 4), count(project_key), count(*), count(*)
    from posts group by period
    union all
    select 'SOC_ACTIVE_PROJECTS', period, 'all', 'all',
        count(distinct project_key), count(distinct project_key), null, count(distinct project_key)
    from posts group by period
    union all
    select 'SOC_UNIQUE_AUTHORS', period, 'all', 'all',
        count(distinct author_pseudonym), count(distinct author_pseudonym), null, count(*)
    from posts group by period
    union all
    select 'SOC_ENGAGEMENT_MEDIAN', period, 'all', 'all',
        (percentile_cont(0.5) within group (order by engagement))::numeric, null, null, count(engagement)
    from posts where engagement is not null group by period
    union all
    select 'SOC_SENTIMENT_EN', period, 'all', 'all',
        round(avg(sentiment)::numeric, 4), null, null, count(sentiment)
    from posts where sentiment is not null group by period
    union all
    select 'SOC_SDG_POSTS', p.period, 'sdg', s.sdg::text,
        round(count(distinct p.post_key)::numeric / t.total, 4), count(distinct p.post_key), t.total, count(distinct p.post_key)
    from posts as p
    inner join {{ ref('int_social__sdg_mentions') }} as s on s.post_key = p.post_key
    inner join totals as t on t.period = p.period
    group by p.period, s.sdg, t.total
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
