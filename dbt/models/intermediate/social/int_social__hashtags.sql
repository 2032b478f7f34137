-- One row per post and hashtag (already NFKC-normalised and case-folded by the loader).
select
    p.post_key,
    p.posted_month,
    p.author_pseudonym,
    p.engagement,
    t.hashtag
from {{ ref('int_social__posts') }} as p
cross join lateral unnest(p.hashtags) as t (hashtag)
where t.hashtag <> ''
