-- Hashtag trends: posts per hashtag and month, with the hashtag's rank in the month. A hashtag used by
-- fewer than `social_hashtag_min_authors` authors in a month is left out: a tag only one person uses
-- can point at that person.
with counts as (
    select
        posted_month as month,
        hashtag,
        count(distinct post_key)::int as posts,
        count(distinct author_pseudonym)::int as unique_authors,
        coalesce(sum(engagement), 0)::bigint as engagement_sum
    from {{ ref('int_social__hashtags') }}
    group by posted_month, hashtag
)

select
    month,
    hashtag,
    posts,
    unique_authors,
    engagement_sum,
    (rank() over (partition by month order by posts desc, unique_authors desc))::int as rank_in_month
from counts
where unique_authors >= {{ var('social_hashtag_min_authors', 2) }}
