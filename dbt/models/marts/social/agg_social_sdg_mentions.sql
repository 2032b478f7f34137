{{ config(
    materialized='incremental', unique_key='month', incremental_strategy='delete+insert', on_schema_change='fail',
    pre_hook="{{ social_delete_emptied_months() }}",
    indexes=[{'columns': ['month']}],
) }}
-- SDG mentions per month: posts that mention each SDG (hashtag, "SDG 13" or a seed keyword).
-- Incremental by month (macro social_months_to_build).
with months as (
    {{ social_months_to_build() }}
),

mentions as (
    select
        s.posted_month as month,
        s.sdg,
        count(distinct s.post_key)::int as posts,
        count(distinct s.author_pseudonym)::int as unique_authors,
        count(distinct s.post_key) filter (where f.project_key is not null)::int as linked_posts,
        coalesce(sum(s.engagement), 0)::bigint as engagement_sum,
        max(m.last_commit_seq) as last_commit_seq
    from {{ ref('int_social__sdg_mentions') }} as s
    inner join months as m on m.month = s.posted_month
    inner join {{ ref('fct_social_post') }} as f on f.post_key = s.post_key
    where {{ social_months_filter('s.posted_month') }}
    group by s.posted_month, s.sdg
)

select
    m.month,
    m.sdg,
    g.sdg_name,
    m.posts,
    m.unique_authors,
    m.linked_posts,
    m.engagement_sum,
    m.last_commit_seq
from mentions as m
left join {{ ref('sdg') }} as g on g.sdg = m.sdg
