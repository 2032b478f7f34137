-- SDG mentions per month: posts that mention each SDG (hashtag, "SDG 13" or a seed keyword).
with mentions as (
    select
        m.posted_month as month,
        m.sdg,
        count(distinct m.post_key)::int as posts,
        count(distinct m.author_pseudonym)::int as unique_authors,
        count(distinct m.post_key) filter (where f.project_key is not null)::int as linked_posts,
        coalesce(sum(m.engagement), 0)::bigint as engagement_sum
    from {{ ref('int_social__sdg_mentions') }} as m
    inner join {{ ref('fct_social_post') }} as f on f.post_key = m.post_key
    group by m.posted_month, m.sdg
)

select
    m.month,
    m.sdg,
    s.sdg_name,
    m.posts,
    m.unique_authors,
    m.linked_posts,
    m.engagement_sum
from mentions as m
left join {{ ref('sdg') }} as s on s.sdg = m.sdg
