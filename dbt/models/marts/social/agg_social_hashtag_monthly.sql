{{ config(
    materialized='incremental', unique_key='month', incremental_strategy='delete+insert', on_schema_change='fail',
    pre_hook="{{ social_delete_emptied_months() }}",
    indexes=[{'columns': ['month']}],
) }}
-- Hashtag trends: posts per hashtag and month, with the hashtag's rank in the month. A hashtag used by
-- fewer than `social_hashtag_min_authors` authors in a month is left out: a tag only one person uses
-- can point at that person. Incremental by month (macro social_months_to_build).
with months as (
    {{ social_months_to_build() }}
),

counts as (
    select
        h.posted_month as month,
        h.hashtag,
        count(distinct h.post_key)::int as posts,
        count(distinct h.author_pseudonym)::int as unique_authors,
        coalesce(sum(h.engagement), 0)::bigint as engagement_sum,
        max(m.last_commit_seq) as last_commit_seq
    from {{ ref('int_social__hashtags') }} as h
    inner join months as m on m.month = h.posted_month
    where {{ social_months_filter('h.posted_month') }}
    group by h.posted_month, h.hashtag
)

select
    month,
    hashtag,
    posts,
    unique_authors,
    engagement_sum,
    (rank() over (partition by month order by posts desc, unique_authors desc))::int as rank_in_month,
    last_commit_seq
from counts
where unique_authors >= {{ var('social_hashtag_min_authors', 2) }}
